{
    "name": "DCI Demo",
    "summary": "Both DCI directions end to end out of the box: demo registrants, an external "
    "MIS sender, demo CRVS/IBR/DR registries and data sources looping back to this server.",
    "version": "19.0.1.5.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": [
        "spp_dci_server_social",
        "spp_dci_client_crvs",
        "spp_dci_client_ibr",
        "spp_dci_client_dr",
        # the case worker's tour (tests/test_case_worker_tour.py)
        "web_tour",
    ],
    "data": [
        "security/ir.model.access.csv",
        "views/spp_dci_demo_person_views.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/spp_dci_demo_person_demo.xml",
        "demo/spp_dci_demo_population.xml",
        "demo/fastapi_endpoint_demo.xml",
        "demo/spp_dci_peer_demo.xml",
        "demo/spp_dci_sender_demo.xml",
        "demo/spp_dci_demo_menus.xml",
        "demo/spp_dci_data_source_demo.xml",
        "demo/spp_dci_demo_registry_loops.xml",
    ],
    "assets": {
        "web.assets_tests": ["spp_dci_demo/static/tests/tours/**/*"],
    },
    "installable": True,
}
