from . import (
    test_case_worker_tour,
    test_client_against_own_server,
    test_demo_mis,
    test_demo_registries,
    test_install,
    test_migrations,
    test_population,
    test_screens,
    test_screens_browser,
)
