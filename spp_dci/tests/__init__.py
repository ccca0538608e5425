from . import test_registry
from . import test_signing_key
from . import test_canonical
from . import test_http_signature
from . import test_jwks
from . import test_keys
from . import test_signature
