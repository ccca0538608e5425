{
    "name": "DCI Client: CRVS",
    "summary": "Import births and deaths from a civil registry (CRVS) over DCI.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_client"],
    "data": [],
    "installable": True,
}
