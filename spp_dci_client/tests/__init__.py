from . import (
    test_client_async,
    test_client_callback_headers,
    test_client_errors,
    test_client_http_signatures,
    test_client_pages,
    test_client_refused_callbacks,
    test_client_resend,
    test_client_sync,
    test_exchange_log,
    test_install,
    test_migrations,
)
