from . import registry_changes, spp_dci_registry_social
