"""Fetching and caching peers' JWKS (``GET /.well-known/jwks.json``).

One :class:`JWKSCache` per process (see :func:`default_cache`) keeps each
peer's signature keys in memory:

* the cache lifetime follows the response's ``Cache-Control``: ``max-age``
  (minus ``Age``) when given, :attr:`default_ttl` when absent, and
  ``no-store``/``no-cache`` as "keep only for ``min_ttl``". Every lifetime is
  clamped to [``min_ttl``, ``max_ttl``]: the cache holds public data in this
  process only, and the floor bounds how often we can hit a peer;
* an unknown ``kid`` triggers a refresh (so key rotation needs no manual
  step), but at most once per ``refresh_interval`` per URL, so a flood of
  messages with made-up kids cannot hammer the peer;
* a failed fetch is remembered for ``failure_backoff`` seconds, so a peer
  outage does not block every worker on a network timeout;
* concurrent lookups of one URL wait for a single fetch (per-URL lock).

HTTP is done with ``httpx``; JWK parsing with :mod:`.keys` (``jwcrypto``).
"""

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from .keys import KeyMaterialError, PublicKey

__all__ = [
    "JWKSCache",
    "JWKSError",
    "JWKSFetchError",
    "JWKSFormatError",
    "JWKSKeyNotFound",
    "cache_for",
    "default_cache",
]

_logger = logging.getLogger(__name__)


class JWKSError(Exception):
    """Base class of JWKS failures; ``url`` names the JWKS concerned."""

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url


class JWKSFetchError(JWKSError):
    """Network failure, timeout, non-200 status or oversized response."""


class JWKSFormatError(JWKSError):
    """The response is not JSON, not a JWKS, or the requested JWK is invalid."""


class JWKSKeyNotFound(JWKSError):
    """The JWKS (even after an allowed refresh) has no signature key with that kid."""


class _Entry:
    __slots__ = ("error", "error_until", "expires_at", "invalid", "keys", "last_attempt", "lock")

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = None  # kid -> PublicKey, None until the first successful fetch
        self.invalid = {}  # kid -> why the JWK was refused
        self.expires_at = 0.0
        self.last_attempt = None
        self.error = None
        self.error_until = 0.0


class JWKSCache:
    """Thread-safe, per-URL cache of peers' JWKS signature keys.

    :param client: an ``httpx.Client`` to use (not closed by us); otherwise one
        is created with ``timeout``, ``verify`` and ``transport``.
    :param verify: TLS verification for the created client (bool, CA bundle
        path or ``ssl.SSLContext``).
    :param allow_http: accept ``http://`` JWKS URLs (tests/local only): JWKS
        over plain HTTP would let anyone on the path swap a peer's keys.
    :param clock: monotonic seconds source, injectable for tests.
    """

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        verify=True,
        default_ttl: float = 300,
        min_ttl: float = 10,
        max_ttl: float = 86400,
        refresh_interval: float = 30,
        failure_backoff: float = 10,
        max_bytes: int = 512 * 1024,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not 0 <= min_ttl <= default_ttl <= max_ttl:
            raise ValueError("need 0 <= min_ttl <= default_ttl <= max_ttl")
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=timeout, verify=verify, transport=transport, follow_redirects=False
        )
        self.default_ttl = default_ttl
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.refresh_interval = refresh_interval
        self.failure_backoff = failure_backoff
        self.max_bytes = max_bytes
        self.allow_http = allow_http
        self._clock = clock
        self._lock = threading.Lock()
        self._entries = {}

    def close(self):
        """Close the HTTP client if this cache created it."""
        if self._own_client:
            self._client.close()

    def invalidate(self, jwks_url: str | None = None):
        """Forget one URL's keys (or all); the next lookup fetches again."""
        with self._lock:
            if jwks_url is None:
                self._entries.clear()
            else:
                self._entries.pop(jwks_url, None)

    def _entry(self, jwks_url: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(jwks_url)
            if entry is None:
                entry = self._entries[jwks_url] = _Entry()
            return entry

    def get_key(self, jwks_url: str, kid: str) -> PublicKey:
        """Return the signature key ``kid`` published at ``jwks_url``.

        :raises JWKSKeyNotFound: no such kid (after at most one rate-limited refresh).
        :raises JWKSFetchError: the JWKS could not be fetched.
        :raises JWKSFormatError: the JWKS or that kid's JWK is invalid.
        """
        self._check_url(jwks_url)
        entry = self._entry(jwks_url)
        with entry.lock:
            now = self._clock()
            if entry.keys is not None and now < entry.expires_at:
                found = self._lookup(entry, jwks_url, kid)
                if found is not None:
                    return found
                if (
                    entry.last_attempt is not None
                    and now - entry.last_attempt < self.refresh_interval
                ):
                    raise JWKSKeyNotFound(
                        f"unknown kid {kid!r} (refresh rate-limited)", url=jwks_url
                    )
            elif entry.error is not None and now < entry.error_until:
                raise type(entry.error)(str(entry.error), url=jwks_url)
            self._refresh(entry, jwks_url, now)
            found = self._lookup(entry, jwks_url, kid)
            if found is None:
                raise JWKSKeyNotFound(f"unknown kid {kid!r}", url=jwks_url)
            return found

    def get_keys(self, jwks_url: str) -> dict:
        """Return ``{kid: PublicKey}`` from the cache, fetching when stale."""
        self._check_url(jwks_url)
        entry = self._entry(jwks_url)
        with entry.lock:
            now = self._clock()
            if entry.keys is None or now >= entry.expires_at:
                if entry.error is not None and now < entry.error_until:
                    raise type(entry.error)(str(entry.error), url=jwks_url)
                self._refresh(entry, jwks_url, now)
            return dict(entry.keys)

    def resolver(self, jwks_url_for_sender: Callable[[str], str | None]):
        """Build a DCI signature key resolver ``(sender_id, key_id) -> PublicKey | None``.

        ``jwks_url_for_sender`` maps a registered sender to its JWKS URL (None
        when unknown). Unknown kids become ``None`` (-> ``UnknownSigningKey``);
        fetch/format errors propagate so callers can answer "try later".
        """

        def resolve(sender_id: str, key_id: str):
            url = jwks_url_for_sender(sender_id)
            if not url:
                return None
            try:
                return self.get_key(url, key_id)
            except JWKSKeyNotFound:
                return None

        return resolve

    def _check_url(self, jwks_url: str):
        if not isinstance(jwks_url, str) or not (
            jwks_url.startswith("https://") or (self.allow_http and jwks_url.startswith("http://"))
        ):
            raise JWKSError(
                "JWKS URLs must use https://", url=jwks_url if isinstance(jwks_url, str) else None
            )

    @staticmethod
    def _lookup(entry: _Entry, jwks_url: str, kid: str):
        if kid in entry.invalid:
            raise JWKSFormatError(f"JWK {kid!r} is not usable: {entry.invalid[kid]}", url=jwks_url)
        return entry.keys.get(kid)

    def _refresh(self, entry: _Entry, jwks_url: str, now: float):
        entry.last_attempt = now
        try:
            body, cache_control, age = self._download(jwks_url)
            keys, invalid = self._parse(body, jwks_url)
        except JWKSError as exc:
            entry.error = exc
            entry.error_until = now + self.failure_backoff
            _logger.warning("JWKS %s: %s", jwks_url, exc)
            raise
        entry.keys = keys
        entry.invalid = invalid
        entry.expires_at = now + self._ttl(cache_control, age)
        entry.error = None
        entry.error_until = 0.0

    def _download(self, jwks_url: str):
        try:
            with self._client.stream(
                "GET", jwks_url, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise JWKSFetchError(
                        f"HTTP {response.status_code} from JWKS endpoint", url=jwks_url
                    )
                chunks = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise JWKSFetchError(
                            f"JWKS larger than {self.max_bytes} bytes", url=jwks_url
                        )
                    chunks.append(chunk)
                return (
                    b"".join(chunks),
                    response.headers.get("cache-control"),
                    response.headers.get("age"),
                )
        except httpx.HTTPError as exc:
            raise JWKSFetchError(
                f"cannot fetch JWKS: {exc.__class__.__name__}: {exc}", url=jwks_url
            ) from exc

    @staticmethod
    def _parse(body: bytes, jwks_url: str):
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise JWKSFormatError("JWKS response is not valid JSON", url=jwks_url) from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JWKSFormatError('JWKS response has no "keys" array', url=jwks_url)
        keys = {}
        invalid = {}
        for item in document["keys"]:
            if not isinstance(item, dict):
                continue
            kid = item.get("kid")
            if not isinstance(kid, str) or not kid or item.get("use") == "enc":
                continue  # encryption keys and kid-less keys are not for us
            if kid in keys or kid in invalid:
                keys.pop(kid, None)
                invalid[kid] = "kid appears more than once"
                continue
            try:
                keys[kid] = PublicKey.from_jwk(item)
            except KeyMaterialError as exc:
                invalid[kid] = str(exc)
        return keys, invalid

    def _ttl(self, cache_control: str | None, age: str | None) -> float:
        ttl = self.default_ttl
        if cache_control:
            directives = {}
            for part in cache_control.split(","):
                name, _, value = part.strip().partition("=")
                directives[name.strip().lower()] = value.strip().strip('"')
            if "no-store" in directives or "no-cache" in directives:
                ttl = 0
            elif "max-age" in directives:
                try:
                    ttl = int(directives["max-age"])
                except ValueError:
                    ttl = self.default_ttl
                else:
                    if age and age.strip().isdigit():
                        ttl -= int(age.strip())
        return min(max(ttl, self.min_ttl), self.max_ttl)


_default_cache = None
_default_lock = threading.Lock()


def default_cache() -> JWKSCache:
    """The process-wide cache (created on first use with default settings)."""
    global _default_cache
    with _default_lock:
        if _default_cache is None:
            _default_cache = JWKSCache()
        return _default_cache


_other_caches = {}


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cache_for(url: str, *, verify_tls=True, allow_http=False) -> JWKSCache:
    """The process-wide cache to fetch ``url`` with: the one place that picks it.

    :func:`default_cache` for https with TLS verification; one more instance per
    other setting. Plain ``http://`` is accepted only when ``allow_http`` (a peer
    marked so by an administrator, tests) or for a loopback URL (a peer on this
    machine): anywhere else it would let anyone on the path swap a peer's keys.
    """
    allow = bool(url and url.startswith("http://") and (allow_http or _is_loopback(url)))
    if verify_tls and not allow:
        return default_cache()
    key = (bool(verify_tls), allow)
    with _default_lock:
        cache = _other_caches.get(key)
        if cache is None:
            cache = _other_caches[key] = JWKSCache(verify=bool(verify_tls), allow_http=allow)
        return cache
