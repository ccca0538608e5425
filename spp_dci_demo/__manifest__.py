{
    "name": "DCI Demo",
    "summary": "Both DCI directions end to end out of the box: demo registrants, senders, keys and data sources.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["spp_dci_server_social", "spp_dci_client_crvs", "spp_dci_client_ibr", "spp_dci_client_dr"],
    "data": [],
    "installable": True,
}
