from . import res_partner, spp_dci_crvs_import, spp_dci_data_source, spp_dci_data_source_pull
