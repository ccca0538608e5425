from . import test_install, test_token, test_unsupported
