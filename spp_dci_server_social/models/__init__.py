from . import registry_changes, search_indexes, spp_dci_registry_social
