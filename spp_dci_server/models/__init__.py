from . import (
    fastapi_endpoint,
    spp_dci_auth_failure,
    spp_dci_delivery_mixin,
    spp_dci_inbox,
    spp_dci_notification,
    spp_dci_overview,
    spp_dci_peer,
    spp_dci_registry,
    spp_dci_request_report,
    spp_dci_sender,
    spp_dci_subscription,
    spp_dci_subscription_changes,
    spp_dci_transaction,
)
from . import res_lang
