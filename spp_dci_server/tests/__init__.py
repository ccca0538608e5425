from . import test_install, test_key_recovery, test_token, test_unsupported
