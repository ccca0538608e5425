from . import spp_dci_crvs_import_wizard
