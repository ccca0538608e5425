from . import spp_dci_sender_secret
