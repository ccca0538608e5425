from . import spp_dci_crvs_import, spp_dci_data_source
