from . import res_partner, spp_dci_data_source, spp_dci_ibr_enrolment, spp_dci_overview
