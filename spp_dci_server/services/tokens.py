"""OAuth2 access tokens: short-lived JWTs (RFC 9068) signed with our DCI key.

The token is a compact JWS built with the same :class:`SigningKey` that signs
our DCI messages, so it verifies against our published JWKS:

* header ``{"alg": "EdDSA" | "RS256" | "PS512", "kid": <our kid>, "typ": "at+jwt"}``;
* claims ``iss`` (our sender id), ``aud`` (the endpoint root path), ``sub`` and
  ``client_id`` (the sender's client id), ``scope`` (space separated), ``iat``,
  ``nbf``, ``exp`` and a random ``jti``.

Verification takes the algorithm from *our* key (never from the token header,
which must merely agree), checks the signature, then ``iss``, ``aud``,
``typ`` and the validity window.
"""

import base64
import binascii
import json
import threading
import time
import uuid
from collections import OrderedDict

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.keys import JWS_ALGORITHMS

TOKEN_TYPE = "at+jwt"
LEEWAY = 30  # seconds of clock difference accepted on iat/nbf/exp
MAX_TOKEN_LENGTH = 8192


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not isinstance(text, str) or not text or any(c in text for c in "=+/ \t\n"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_segment(data: dict) -> str:
    return _b64encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def issue_token(signer, *, issuer, audience, client_id, scopes, ttl, now=None):
    """Return ``(token, claims)`` for ``client_id`` with ``scopes`` (a list)."""
    issued = int(now if now is not None else time.time())
    header = {"alg": JWS_ALGORITHMS[signer.algorithm], "kid": signer.kid, "typ": TOKEN_TYPE}
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client_id,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64encode(signature)}", claims


def _unauthorized(message):
    return DCIError(ErrorCode.REQUEST_UNAUTHORIZED, message, http_status=401)


def verify_token(token, public_keys, *, issuer, audience, now=None, leeway=LEEWAY):
    """Verify ``token`` and return its claims.

    A client sends the same token with every request until it expires: its signature
    is checked once per process (:data:`_verified`), the claims on every request.

    :param public_keys: ``{kid: PublicKey}`` of our active and retiring keys.
    :raises DCIError: ``err.request.unauthorized`` (401) for any problem.
    """
    claims = _signed_claims(token, public_keys)
    current = int(now if now is not None else time.time())
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, int) or not isinstance(nbf, int):
        raise _unauthorized("the access token has no validity period")
    if exp < current - leeway:
        raise _unauthorized("the access token has expired")
    if nbf > current + leeway:
        raise _unauthorized("the access token is not valid yet")
    if claims.get("iss") != issuer or claims.get("aud") != audience:
        raise _unauthorized("the access token was issued for another server or endpoint")
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("scope"), str):
        raise _unauthorized("the access token has no subject or scope")
    return claims


class _VerifiedTokens:
    """Tokens whose signature verified, with the key that verified it (bounded, LRU).

    A hit counts only while that same key object is still among our public keys: a
    key retired or revoked clears Odoo's caches (every worker: registry signalling),
    which gives new key objects, so the token is verified again - or refused.
    """

    def __init__(self, size=4096):
        self.size = size
        self._lock = threading.Lock()
        self._tokens = OrderedDict()

    def get(self, token, public_keys):
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return None
            kid, key, claims = found
            if public_keys.get(kid) is not key:
                del self._tokens[token]
                return None
            self._tokens.move_to_end(token)
            return claims

    def add(self, token, kid, key, claims):
        with self._lock:
            self._tokens[token] = (kid, key, claims)
            if len(self._tokens) > self.size:
                self._tokens.popitem(last=False)


_verified = _VerifiedTokens()


def _signed_claims(token, public_keys):
    """The claims of ``token`` once its form and our signature are checked."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise _unauthorized("the access token is not a JWT")
    claims = _verified.get(token, public_keys)
    if claims is not None:
        return dict(claims)
    header_b64, claims_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(claims_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _unauthorized("the access token is malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _unauthorized("the access token is malformed")
    kid = header.get("kid")
    key = public_keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise _unauthorized("the access token was not signed by a key of this server")
    if header.get("alg") != JWS_ALGORITHMS[key.algorithm] or header.get("typ") != TOKEN_TYPE:
        raise _unauthorized("the access token header does not match the signing key")
    if not key.verify(signature, f"{header_b64}.{claims_b64}".encode("ascii")):
        raise _unauthorized("the access token signature is invalid")
    _verified.add(token, kid, key, claims)
    return dict(claims)
