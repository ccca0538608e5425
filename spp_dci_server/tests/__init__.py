from . import (
    test_delivery_settings,
    test_install,
    test_key_recovery,
    test_overview,
    test_payload_views,
    test_retention,
    test_sender_secrets,
    test_token,
    test_token_cache,
    test_token_failures,
    test_transaction_indexes,
    test_unsupported,
)
