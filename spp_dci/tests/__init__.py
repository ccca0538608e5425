from . import (
    test_canonical,
    test_frequency,
    test_http_signature,
    test_json_body,
    test_jwks,
    test_keys,
    test_query,
    test_registry,
    test_schemas,
    test_signature,
    test_signing_key,
    test_spec_samples,
)
