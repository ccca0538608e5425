from . import (
    test_async,
    test_bad_input,
    test_headers_signatures,
    test_install,
    test_pipeline,
    test_receivers,
    test_resend,
    test_subscribe,
    test_subscribe_changes,
    test_subscribe_frequency,
    test_sync_search,
    test_txn_status,
)
