from . import (
    test_crvs_background_import,
    test_crvs_callbacks,
    test_crvs_concurrency,
    test_crvs_import,
    test_crvs_life_events,
    test_crvs_upsert_batch,
    test_crvs_verify,
    test_install,
    test_migrations,
    test_mapping,
)
