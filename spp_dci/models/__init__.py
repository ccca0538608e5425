from . import spp_id_type
from . import spp_registry_id
from . import spp_group_membership
from . import res_partner
from . import spp_dci_signing_key
