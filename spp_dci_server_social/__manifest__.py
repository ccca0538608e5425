{
    "name": "DCI Social Registry Server",
    "summary": "Social Registry implementation of the DCI registry server over res.partner "
    "and spp.registry.id, served at /dci/social.",
    "version": "19.0.0.2.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_server"],
    "data": [
        "data/fastapi_endpoint_data.xml",
    ],
    "installable": True,
}
