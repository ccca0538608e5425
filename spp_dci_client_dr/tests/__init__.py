from . import test_dr_callbacks, test_dr_check, test_install, test_mapping
