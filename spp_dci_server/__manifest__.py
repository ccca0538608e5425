{
    "name": "DCI Registry Server",
    "summary": "Serve this registry over the DCI 1.0.0 API (sync/async search, "
    "subscribe/notify, txn status, OAuth2, signatures).",
    "version": "19.0.1.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci", "fastapi", "queue_job", "mail"],
    "external_dependencies": {
        "python": ["fastapi", "pydantic", "httpx", "httpcore", "passlib", "cryptography"],
    },
    "data": [
        "security/dci_server_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_config_parameter_data.xml",
        "wizards/spp_dci_sender_secret_views.xml",
        "views/spp_dci_transaction_views.xml",
        "views/spp_dci_subscription_views.xml",
        "views/spp_dci_notification_views.xml",
        "views/spp_dci_inbox_views.xml",
        "views/spp_dci_sender_views.xml",
        "views/fastapi_endpoint_views.xml",
        "views/dci_server_menus.xml",
    ],
    "installable": True,
}
