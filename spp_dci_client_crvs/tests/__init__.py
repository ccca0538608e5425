from . import (
    test_crvs_callbacks,
    test_crvs_concurrency,
    test_crvs_import,
    test_install,
    test_mapping,
)
