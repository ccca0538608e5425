# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""OAuth2 client credentials (authz_core_api_v1.0.0: ``POST /oauth2/client/token``).

Tokens live only in this process's memory (:data:`TOKEN_CACHE`), keyed by the
token URL, the client id and a hash of the client secret, so changing the
secret in the data source starts a new cache entry. A token is reused until
:data:`REFRESH_MARGIN` before its ``expires_in`` runs out; a 401 from the
registry drops it (see ``service.DCIClient``) so the next call fetches a new one.
"""

import hashlib
import threading
import time
from dataclasses import dataclass

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "REFRESH_MARGIN",
    "TOKEN_CACHE",
    "CachedToken",
    "OAuth2ClientCredentials",
    "TokenCache",
]

#: Seconds before expiry at which a cached token is no longer handed out
#: (capped at a tenth of the token's lifetime for very short-lived tokens).
REFRESH_MARGIN = 30
#: Lifetime assumed when the token response has no usable ``expires_in``
#: (the spec makes it optional); a 401 before then still forces a refresh.
DEFAULT_TOKEN_LIFETIME = 300


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_at: float  # time.monotonic() seconds

    def __repr__(self):
        return f"CachedToken(expires_at={self.expires_at:.0f}, access_token=<hidden>)"


class TokenCache:
    """Thread-safe in-memory token store with one fetch lock per key."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._tokens = {}
        self._locks = {}
        self._lock = threading.Lock()

    def lock(self, key) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key) -> CachedToken | None:
        with self._lock:
            token = self._tokens.get(key)
        if token is not None and self._clock() < token.expires_at:
            return token
        return None

    def put(self, key, access_token: str, lifetime: float) -> CachedToken:
        margin = min(REFRESH_MARGIN, lifetime / 10)
        token = CachedToken(access_token, self._clock() + max(lifetime - margin, 0))
        with self._lock:
            self._tokens[key] = token
        return token

    def invalidate(self, key=None, access_token=None):
        """Forget ``key`` (only if it still holds ``access_token`` when given), or everything."""
        with self._lock:
            if key is None:
                self._tokens.clear()
                return
            current = self._tokens.get(key)
            if current is not None and (
                access_token is None or current.access_token == access_token
            ):
                del self._tokens[key]


#: The process-wide token cache used by every data source.
TOKEN_CACHE = TokenCache()


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """What we need to ask a registry's token endpoint for a bearer token."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None

    def __repr__(self):
        return (
            f"OAuth2ClientCredentials(token_url={self.token_url!r}, "
            f"client_id={self.client_id!r}, secret=<hidden>)"
        )

    @property
    def cache_key(self) -> tuple:
        secret_hash = hashlib.sha256(self.client_secret.encode("utf-8")).hexdigest()
        return (self.token_url, self.client_id, secret_hash, self.scope or "")

    def form(self) -> dict:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            data["scope"] = self.scope
        return data


def parse_lifetime(expires_in) -> float:
    """``expires_in`` is a string in the DCI authz spec and an integer in RFC 6749; accept both."""
    if isinstance(expires_in, bool):
        return DEFAULT_TOKEN_LIFETIME
    if isinstance(expires_in, int | float) and expires_in > 0:
        return float(expires_in)
    if isinstance(expires_in, str) and expires_in.strip().isdigit() and int(expires_in) > 0:
        return float(expires_in)
    return DEFAULT_TOKEN_LIFETIME
