{
    "name": "DCI Client: Disability Registry",
    "summary": "Look up a disability registry (DR) over DCI for targeting.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_client"],
    "data": [
        "security/ir.model.access.csv",
        "views/res_partner_views.xml",
        "views/spp_dci_data_source_views.xml",
        "views/spp_dci_overview_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
}
