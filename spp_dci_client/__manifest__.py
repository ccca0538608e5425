{
    "name": "DCI Client",
    "summary": "Query external DCI registries: data sources, auth, sync/async search, callback receivers, exchange log.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_server"],
    "data": [],
    "installable": True,
}
