{
    "name": "DCI Client: IBR",
    "summary": "Check enrolments against an integrated beneficiary registry (IBR) over DCI.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_client"],
    "data": [
        "security/ir.model.access.csv",
        "views/res_partner_views.xml",
        "views/spp_dci_ibr_enrolment_views.xml",
        "views/spp_dci_overview_views.xml",
    ],
    "installable": True,
}
