"""A peer's signature keys, and the one check of a message signed by a peer.

A peer (``spp.dci.peer``: a registry we call, a system that calls us, or both)
has keys registered by hand and/or a JWKS URL. Every signed DCI message from
it is checked here, whichever direction it travels: requests it sends to our
registry paths, answers to our requests and callbacks it sends us. The key
lookup rule is one: ``kidId`` must name this peer, then the registered key
with that ``kid``, else the key with that ``kid`` in the peer's JWKS (one
process-wide cache, :func:`.jwks.cache_for`).
"""

from dataclasses import dataclass, field

from .envelope import verify_envelope
from .jwks import JWKSKeyNotFound, cache_for
from .keys import PublicKey

__all__ = ["PeerKeys"]


@dataclass(frozen=True)
class PeerKeys:
    #: the peer's DCI id: the ``sender_id`` of its messages and the first part of its kidId
    dci_id: str
    keys: dict = field(default_factory=dict)  # kid -> PublicKey (active registered keys)
    jwks_url: str | None = None
    jwks_allow_http: bool = False
    verify_tls: bool = True

    @property
    def has_keys(self) -> bool:
        """Whether a signature of this peer can be checked at all."""
        return bool(self.keys or self.jwks_url)

    def public_key(self, kid) -> PublicKey | None:
        """The peer's key ``kid``: registered keys first, then its JWKS (None: unknown).

        JWKS fetch failures raise ``JWKSError`` (the caller answers "try later").
        """
        key = self.keys.get(kid)
        if key is not None or not self.jwks_url:
            return key
        try:
            return self.jwks_cache().get_key(self.jwks_url, kid)
        except JWKSKeyNotFound:
            return None

    def jwks_cache(self):
        return cache_for(self.jwks_url, verify_tls=self.verify_tls, allow_http=self.jwks_allow_http)

    def resolve(self, sender_id, key_id) -> PublicKey | None:
        """The signature key resolver: only keys of this peer, for signatures naming it."""
        return self.public_key(key_id) if sender_id == self.dci_id else None

    def verify(self, envelope: dict, *, require_signature=True, callback=False, **options):
        """Verify the DCI signature of ``envelope`` sent by this peer (``verify_envelope``).

        ``callback``: a callback header may leave out ``sender_id``; the signer
        must then be this peer. ``options`` go to ``verify_envelope``
        (``expected_sender_id``, ``max_validity``...). Returns the
        ``VerifiedSignature``, None for an unsigned envelope that is allowed.
        """
        return verify_envelope(
            envelope,
            self.resolve,
            require_signature=require_signature,
            callback_sender_id=self.dci_id if callback else None,
            **options,
        )
