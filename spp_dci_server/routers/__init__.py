from .dci import dci_endpoint_config, dci_router
