from . import (
    test_client_against_own_server,
    test_demo_mis,
    test_demo_registries,
    test_install,
    test_migrations,
)
