from . import test_install, test_sender_secrets, test_token, test_token_failures, test_unsupported
