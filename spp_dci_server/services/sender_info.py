"""What the request pipeline needs to know of a sender, kept per process.

``spp.dci.sender._dci_sender_info`` builds it once per client id (an Odoo
``ormcache``); any change to a sender, its peer or the peer's keys clears Odoo's
caches, and Odoo's cache signalling makes every other worker and node drop
theirs at its next request. Registered keys are parsed here once, not on every
request.
"""

from dataclasses import dataclass, field

from odoo.addons.spp_dci.dci.peer_keys import PeerKeys


@dataclass(frozen=True)
class SenderInfo:
    id: int
    client_id: str
    scopes: tuple
    registry_types: tuple
    signature_policy: str
    rate_limit: int
    callback_hosts: str
    allow_private_callbacks: bool
    #: requests must carry an RFC 9421 HTTP signature (services/http_signatures.py)
    require_http_signature: bool = False
    #: the onboarding callback address used when a request has no sender_uri
    callback_base_url: str | None = None
    #: where notifications go before the subscribe request's sender_uri (paths.notify_url)
    notify_uri: str | None = None
    #: the peer's keys (registered + JWKS): the one signature check of its messages
    peer: PeerKeys | None = None
    #: digest of the client secret (services/client_secrets.py); never shown in a repr
    secret_hash: str | None = field(default=None, repr=False, compare=False)

    def public_key(self, kid):
        """The sender's key ``kid`` (see ``PeerKeys.public_key``), or None."""
        return self.peer.public_key(kid) if self.peer is not None else None
