from . import test_ibr_background_check, test_ibr_check, test_install, test_mapping
