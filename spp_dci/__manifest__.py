{
    "name": "DCI Foundation",
    "summary": "DCI 1.0.0 protocol core (schemas, codes, signatures, keys, JWKS) "
    "and the minimal registry layer.",
    "version": "19.0.0.1.0",
    "category": "OpenSPP/DCI",
    "author": "OpenSPP DCI contributors",
    "website": "https://github.com/OpenSPP/openspp-dci",
    "license": "LGPL-3",
    "depends": ["base"],
    "external_dependencies": {
        "python": [
            "pydantic",
            "cryptography",
            "jwcrypto",
            "rfc8785",
            "http_message_signatures",
            "httpx",
        ],
    },
    "data": [
        "security/dci_security.xml",
        "security/ir.model.access.csv",
        "data/spp_id_type_data.xml",
        "data/ir_cron_data.xml",
        "views/dci_menus.xml",
        "views/spp_id_type_views.xml",
        "views/spp_registry_id_views.xml",
        "views/res_partner_views.xml",
        "views/spp_group_membership_views.xml",
    ],
    "installable": True,
    "application": True,
}
