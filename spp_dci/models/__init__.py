from . import (
    res_partner,
    spp_dci_cached_mixin,
    spp_dci_secret,
    spp_dci_signing_key,
    spp_dci_signing_key_secret,
    spp_group_membership,
    spp_id_type,
    spp_registry_id,
)

# after spp_dci_secret: the peer inherits its mixin
from . import spp_dci_peer, spp_dci_peer_direction, spp_dci_peer_key
