{
    "name": "DCI Registry Server",
    "summary": "Serve this registry over the DCI 1.0.0 API (sync/async search, subscribe/notify, txn status, OAuth2, signatures).",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci", "fastapi", "queue_job"],
    "data": [],
    "installable": True,
}
