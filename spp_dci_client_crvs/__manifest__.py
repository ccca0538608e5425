{
    "name": "DCI Client: CRVS",
    "summary": "Import births and deaths from a civil registry (CRVS) over DCI.",
    "version": "19.0.0.2.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_client", "queue_job"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/spp_dci_crvs_import_views.xml",
        "views/spp_dci_crvs_import_wizard_views.xml",
        "views/spp_dci_data_source_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
}
