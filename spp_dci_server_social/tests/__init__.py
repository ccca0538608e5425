from . import (
    test_async,
    test_bad_input,
    test_concurrency,
    test_headers_signatures,
    test_install,
    test_pipeline,
    test_receivers,
    test_search_limits,
    test_subscribe,
    test_sync_search,
    test_txn_status,
)
