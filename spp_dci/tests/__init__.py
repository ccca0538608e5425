from . import test_registry
from . import test_signing_key
