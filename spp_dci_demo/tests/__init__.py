from . import test_install
from . import test_client_against_own_server
