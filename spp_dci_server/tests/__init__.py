from . import test_install, test_retention, test_token, test_unsupported
