from . import (
    test_canonical,
    test_http_signature,
    test_jwks,
    test_key_secret,
    test_keys,
    test_query,
    test_registry,
    test_schemas,
    test_signature,
    test_signing_key,
    test_spec_samples,
)
