from . import (
    test_delivery_settings,
    test_install,
    test_key_recovery,
    test_token,
    test_unsupported,
)
