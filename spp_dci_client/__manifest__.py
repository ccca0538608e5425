{
    "name": "DCI Client",
    "summary": "Query external DCI registries: data sources, auth, sync/async search, "
    "callback receivers, exchange log.",
    "version": "19.0.1.10.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci", "spp_dci_server", "queue_job", "mail"],
    "external_dependencies": {
        "python": ["httpx", "pydantic", "cryptography", "jwcrypto", "rfc8785", "starlette"],
    },
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/spp_dci_data_source_views.xml",
        "views/spp_dci_peer_views.xml",
        "views/spp_dci_client_transaction_views.xml",
        "views/spp_dci_client_subscription_views.xml",
        "views/spp_dci_client_exchange_log_views.xml",
        "views/spp_dci_check_run_views.xml",
        "views/spp_dci_overview_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
}
