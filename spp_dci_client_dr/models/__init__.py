from . import res_partner, spp_dci_data_source, spp_dci_disability_info, spp_dci_overview
