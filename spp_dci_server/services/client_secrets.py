"""Senders' OAuth2 client secrets: HMAC-SHA256 digests keyed by a server secret.

A client secret is 256 random bits made here (``secrets.token_urlsafe(32)``), so
a slow password hash buys nothing: nobody guesses 256 bits, online or offline.
An HMAC keyed by a server secret (``spp.dci.sender._dci_client_secret_key``)
costs microseconds, so a failed attempt is cheap to answer, and a digest from a
database dump does not even let one test a guess without the key.

Stored form: ``hmac-sha256$<key id>$<base64url digest>``. The key id (8 hex
characters derived from the key, not the key) tells a digest made under
another server secret apart from a wrong secret. Digests of the former format
(passlib ``$pbkdf2-sha512$...``) still verify; the caller replaces them on the
next success.

Every check does the same work whatever is stored: one HMAC of the presented
secret and one constant-time comparison, against a random dummy digest when
the client is unknown, inactive or has no (current) digest, so an answer does
not tell a known client id from an unknown one by its time.
"""

import base64
import hashlib
import hmac
import os

import passlib.context

SCHEME = "hmac-sha256"
LEGACY_PREFIX = "$pbkdf2-sha512$"
_legacy = passlib.context.CryptContext(["pbkdf2_sha512"])
#: What an unknown client's secret is compared with (matches nothing).
_DUMMY = os.urandom(32)


def key_id(key: bytes) -> str:
    return hmac.new(key, b"spp_dci_server client secret key id", hashlib.sha256).hexdigest()[:8]


def digest(key: bytes, secret: str) -> bytes:
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).digest()


def hash_secret(key: bytes, secret: str) -> str:
    mac = base64.urlsafe_b64encode(digest(key, secret)).rstrip(b"=").decode("ascii")
    return f"{SCHEME}${key_id(key)}${mac}"


def _stored_digest(key, stored):
    """The digest in ``stored`` when it is ours under ``key``, else None."""
    if not stored or not stored.startswith(SCHEME + "$"):
        return None
    _scheme, kid, mac = [*stored.split("$"), "", ""][:3]
    if kid != key_id(key):
        return None
    try:
        return base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except ValueError:
        return None


def is_stale(key, stored) -> bool:
    """``stored`` is a digest made under another server secret (it can never verify)."""
    return bool(stored and stored.startswith(SCHEME + "$")) and _stored_digest(key, stored) is None


def verify(key: bytes, secret, stored) -> tuple[bool, bool]:
    """``(valid, rehash)``: whether ``secret`` matches ``stored``, and whether to rehash it.

    ``stored`` is None for an unknown or inactive client: the same HMAC and
    comparison run against a dummy digest.
    """
    presented = digest(key, secret if isinstance(secret, str) else "")
    expected = _stored_digest(key, stored)
    matches = hmac.compare_digest(presented, expected if expected is not None else _DUMMY)
    if expected is not None:
        return matches and bool(secret), False
    if stored and stored.startswith(LEGACY_PREFIX) and isinstance(secret, str) and secret:
        try:
            return _legacy.verify(secret, stored), True
        except (ValueError, TypeError):
            return False, False
    return False, False
