from . import (
    fastapi_endpoint,
    ir_http,
    spp_dci_check_run,
    spp_dci_client_exchange_log,
    spp_dci_client_receiver,
    spp_dci_client_subscription,
    spp_dci_client_transaction,
    spp_dci_data_source,
    spp_dci_inbox,
    spp_dci_overview,
    spp_dci_peer,
)

# after spp_dci_data_source: extends spp.dci.data.source
from . import registrant_check
