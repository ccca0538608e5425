"""RFC 9421 HTTP Message Signatures with RFC 9530 ``Content-Digest``.

This is the transport-level signature (headers ``Signature-Input``,
``Signature`` and ``Content-Digest``), complementary to the DCI body
signature of :mod:`.signature`. Signature bases, Structured Fields and digests
are built by the ``http-message-signatures`` package; this module adds:

* a plain-function API over (method, url, headers, body) so it works with any
  HTTP client or server framework;
* DCI key objects (:class:`~.keys.SigningKey`/:class:`~.keys.PublicKey`, plus
  :class:`HmacKey`), with the RFC 9421 algorithm taken from the *resolved key*,
  never from the attacker-controlled ``alg`` parameter (which, when present,
  must agree);
* our own ``created``/``expires`` policy with an injectable clock and
  clock-skew allowance, and distinct :class:`~.signature.SignatureError`
  subclasses per failure;
* a policy of required covered components (method, authority, path and the
  body digest for requests; status and digest for responses).
"""

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import http_sf
from cryptography.hazmat.primitives.asymmetric import ec
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

from .http_signature_base import request_signature, response_signature
from .keys import ED25519, RSA_PSS_SHA512, RSA_SHA256, PublicKey, SigningKey
from .signature import (
    AlgorithmMismatch,
    BadSignature,
    MalformedSignature,
    SignatureError,
    SignatureExpired,
    SignatureMissing,
    SignatureNotYetValid,
    UnknownSigningKey,
)

__all__ = [
    "DEFAULT_LABEL",
    "DEFAULT_REQUEST_COMPONENTS",
    "DEFAULT_RESPONSE_COMPONENTS",
    "REQUIRED_REQUEST_COMPONENTS",
    "REQUIRED_RESPONSE_COMPONENTS",
    "DigestMismatch",
    "HmacKey",
    "HttpSignatureResult",
    "InsufficientCoverage",
    "content_digest",
    "sign_request",
    "sign_response",
    "verify_content_digest",
    "verify_request",
    "verify_response",
]

# RFC 9421 section 6.2.2 algorithm names.
HTTP_ED25519 = "ed25519"
HTTP_RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
HTTP_RSA_PSS_SHA512 = "rsa-pss-sha512"
HTTP_HMAC_SHA256 = "hmac-sha256"
HTTP_ECDSA_P256_SHA256 = "ecdsa-p256-sha256"  # verification of peer keys only

_HTTP_ALGORITHM_OF = {
    ED25519: HTTP_ED25519,
    RSA_SHA256: HTTP_RSA_V1_5_SHA256,
    RSA_PSS_SHA512: HTTP_RSA_PSS_SHA512,
}
_ALGORITHM_CLASSES = {
    HTTP_ED25519: algorithms.ED25519,
    HTTP_RSA_V1_5_SHA256: algorithms.RSA_V1_5_SHA256,
    HTTP_RSA_PSS_SHA512: algorithms.RSA_PSS_SHA512,
    HTTP_HMAC_SHA256: algorithms.HMAC_SHA256,
    HTTP_ECDSA_P256_SHA256: algorithms.ECDSA_P256_SHA256,
}

DEFAULT_LABEL = "sig1"
# @authority/@path rather than @target-uri: survives TLS-terminating proxies
# that change only the scheme. @query is covered but not required (POST APIs).
DEFAULT_REQUEST_COMPONENTS = (
    "@method",
    "@authority",
    "@path",
    "@query",
    "content-type",
    "content-digest",
)
REQUIRED_REQUEST_COMPONENTS = ("@method", "@authority", "@path", "content-digest")
DEFAULT_RESPONSE_COMPONENTS = ("@status", "content-type", "content-digest")
REQUIRED_RESPONSE_COMPONENTS = ("@status", "content-digest")
DEFAULT_HTTP_TTL = 300
DEFAULT_MAX_AGE = 300
DEFAULT_CLOCK_SKEW = 60
MIN_HMAC_SECRET_BYTES = 32
DIGEST_ALGORITHMS = ("sha-256", "sha-512")
_HASHERS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


class DigestMismatch(BadSignature):
    """``Content-Digest`` does not match the body."""

    reason = "digest_mismatch"


class InsufficientCoverage(MalformedSignature):
    """The signature does not cover a component our policy requires."""

    reason = "insufficient_coverage"


class HmacKey:
    """A shared secret for ``hmac-sha256`` (RFC 9421 section 3.3.3); secret hidden from repr."""

    __slots__ = ("_secret", "kid")
    algorithm = HTTP_HMAC_SHA256

    def __init__(self, kid: str, secret: bytes):
        if not kid or not isinstance(kid, str):
            raise ValueError("a non-empty kid is required")
        if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_HMAC_SECRET_BYTES:
            raise ValueError(f"HMAC secrets must be at least {MIN_HMAC_SECRET_BYTES} bytes")
        self.kid = kid
        self._secret = bytes(secret)

    def __repr__(self):
        return f"HmacKey(kid={self.kid!r}, secret=<hidden>)"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("HmacKey cannot be pickled")

    def sign(self, data: bytes) -> bytes:
        return hmac.new(self._secret, data, hashlib.sha256).digest()


@dataclass(frozen=True)
class HttpSignatureResult:
    """A verified RFC 9421 signature."""

    label: str
    key_id: str
    algorithm: str
    created: int
    expires: int | None
    covered_components: tuple
    parameters: dict
    key: object


# Resolver for verification: keyid -> PublicKey | HmacKey | EC P-256 public key | None.
HttpKeyResolver = Callable[[str], object]


class _Headers:
    """Ordered, case-insensitive header list with the interface the library needs."""

    def __init__(self, headers):
        if headers is None:
            pairs = []
        elif hasattr(headers, "multi_items"):  # httpx.Headers keeps repeated fields there
            pairs = list(headers.multi_items())
        elif hasattr(headers, "items"):
            pairs = list(headers.items())
        else:
            pairs = list(headers)
        self._pairs = [(str(name), str(value)) for name, value in pairs]

    def items(self):
        return list(self._pairs)

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self._pairs))

    def __contains__(self, name):
        return any(key.lower() == name.lower() for key, _ in self._pairs)

    def __setitem__(self, name, value):
        self._pairs = [(key, val) for key, val in self._pairs if key.lower() != name.lower()]
        self._pairs.append((name, value))

    def __delitem__(self, name):
        if name not in self:
            raise KeyError(name)
        self._pairs = [(key, val) for key, val in self._pairs if key.lower() != name.lower()]

    def get(self, name):
        values = [val for key, val in self._pairs if key.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class _Request:
    method: str
    url: str
    headers: _Headers


@dataclass
class _Response:
    status_code: int
    headers: _Headers
    request: _Request | None


class _OneKeyResolver(HTTPSignatureKeyResolver):
    def __init__(self, key_id, key):
        self._key_id = key_id
        self._key = key

    def resolve_public_key(self, key_id):
        return self._key if key_id == self._key_id else None

    def resolve_private_key(self, key_id):
        raise HTTPMessageSignaturesException("private keys are not resolved here")


def _now(now) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        return int(now.timestamp())
    return int(now)


class _Verifier(HTTPMessageVerifier):
    """Library verifier with our clock, skew and expiry policy."""

    def __init__(
        self, *, now: int, clock_skew: int, max_age: int | None, require_expires: bool, **kwargs
    ):
        super().__init__(**kwargs)
        self._dci_now = now
        self._dci_skew = clock_skew
        self._dci_max_age = max_age
        self._dci_require_expires = require_expires

    def validate_created_and_expires(self, sig_input, max_age=None):
        params = sig_input.params
        created = params.get("created")
        expires = params.get("expires")
        if type(created) is not int:
            raise MalformedSignature('the signature needs an integer "created" parameter')
        if expires is not None and type(expires) is not int:
            raise MalformedSignature('"expires" must be an integer')
        if expires is None and self._dci_require_expires:
            raise MalformedSignature('the signature needs an "expires" parameter')
        if expires is not None and expires < created:
            raise MalformedSignature('"expires" is before "created"')
        if created > self._dci_now + self._dci_skew:
            raise SignatureNotYetValid("signature created in the future")
        if expires is not None and expires < self._dci_now - self._dci_skew:
            raise SignatureExpired("signature has expired")
        if (
            self._dci_max_age is not None
            and created + self._dci_max_age < self._dci_now - self._dci_skew
        ):
            raise SignatureExpired("signature is older than the allowed maximum age")


class _Sha256ContentDigest(ContentDigest):
    algorithm = "sha-256"


class _Sha512ContentDigest(ContentDigest):
    algorithm = "sha-512"


_DIGEST_CLASSES = {"sha-256": _Sha256ContentDigest, "sha-512": _Sha512ContentDigest}


def _digest_class(algorithm: str):
    if algorithm not in _DIGEST_CLASSES:
        raise ValueError(
            f"unsupported Content-Digest algorithm {algorithm!r}; use one of {DIGEST_ALGORITHMS}"
        )
    return _DIGEST_CLASSES[algorithm]


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """RFC 9530 ``Content-Digest`` value for ``body``, e.g. ``sha-256=:<base64>:``."""
    return _digest_class(algorithm).create(body)


def verify_content_digest(value: str, body: bytes) -> None:
    """Check every digest in a ``Content-Digest`` value (sha-256/sha-512) against ``body``.

    :raises DigestMismatch: a digest does not match.
    :raises MalformedSignature: the field is malformed or has no supported algorithm.
    """
    try:
        members = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeError) as exc:
        raise MalformedSignature("Content-Digest is not a Structured Field dictionary") from exc
    checked = 0
    for algorithm, (digest, _params) in members.items():
        hasher = _HASHERS.get(algorithm)
        if hasher is None:
            continue  # RFC 9530: unknown algorithms are ignored
        if not isinstance(digest, bytes):
            raise MalformedSignature(f"Content-Digest {algorithm} is not a byte sequence")
        if not hmac.compare_digest(digest, hasher(body).digest()):
            raise DigestMismatch("Content-Digest does not match the body")
        checked += 1
    if not checked:
        raise MalformedSignature("Content-Digest has no sha-256 or sha-512 member")


def _http_algorithm(key) -> str:
    if isinstance(key, HmacKey):
        return HTTP_HMAC_SHA256
    if isinstance(key, SigningKey | PublicKey):
        return _HTTP_ALGORITHM_OF[key.algorithm]
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return HTTP_ECDSA_P256_SHA256
    raise TypeError(f"unsupported HTTP signature key {type(key).__name__}")


def _verification_material(key):
    if isinstance(key, HmacKey):
        return key._secret
    if isinstance(key, PublicKey):
        return key.key
    return key


def _component_identity(component: str):
    """(name, params) of a component given as ``name`` or serialised ``"name";param=...``."""
    if component.startswith('"'):
        value, params = http_sf.parse(component.encode(), tltype="item")
        return value, frozenset(params.items())
    return component, frozenset()


def _sign(
    message,
    body,
    key,
    *,
    key_id,
    covered_components,
    label,
    ttl,
    now,
    nonce,
    tag,
    include_alg,
    digest_algorithm,
    plain=None,
):
    """The signature headers of ``message``; ``plain``: the ``http_signature_base``
    signer of its kind, tried first (no nonce or tag): the same bytes, or None."""
    if not isinstance(key, SigningKey | HmacKey):
        raise TypeError("key must be a SigningKey or HmacKey")
    if ttl is not None and ttl < 0:
        raise ValueError("ttl must be positive (or None for no expires)")
    algorithm = _http_algorithm(key)
    created = _now(now)
    if plain is not None and nonce is None and tag is None:
        signed = plain(
            message.headers.items(),
            body,
            key,
            http_algorithm=algorithm,
            covered=covered_components,
            label=label,
            key_id=key_id or key.kid,
            created=created,
            expires=created + ttl if ttl else None,
            include_alg=include_alg,
            digest_algorithm=digest_algorithm,
        )
        if signed is not None:
            return signed
    signer = HTTPMessageSigner(signature_algorithm=_ALGORITHM_CLASSES[algorithm])
    signer.content_digest_class = _digest_class(digest_algorithm)
    had_digest = "content-digest" in message.headers
    try:
        prepared = signer.prepare(
            message,
            key_id=key_id or key.kid,
            created=datetime.fromtimestamp(created, tz=UTC),
            expires=datetime.fromtimestamp(created + ttl, tz=UTC) if ttl else None,
            nonce=nonce,
            label=label,
            tag=tag,
            include_alg=include_alg,
            covered_component_ids=tuple(covered_components),
            body=body,
            use_existing_digest=had_digest,
        )
        # External-signer flow: the private key stays inside SigningKey/HmacKey.
        signer.apply(message, prepared, key.sign(prepared.signature_base))
    except HTTPMessageSignaturesException as exc:
        raise ValueError(f"cannot sign the HTTP message: {exc}") from exc
    added = {
        "Signature-Input": message.headers.get("Signature-Input"),
        "Signature": message.headers.get("Signature"),
    }
    if not had_digest and "content-digest" in message.headers:
        added["Content-Digest"] = message.headers.get("Content-Digest")
    return added


def sign_request(
    method: str,
    url: str,
    headers,
    body: bytes | None,
    key,
    *,
    covered_components=DEFAULT_REQUEST_COMPONENTS,
    label: str = DEFAULT_LABEL,
    key_id: str | None = None,
    ttl: int | None = DEFAULT_HTTP_TTL,
    now=None,
    nonce: str | None = None,
    tag: str | None = None,
    include_alg: bool = True,
    digest_algorithm: str = "sha-256",
) -> dict:
    """Sign an outgoing request; return the headers to add.

    :param url: the absolute, already-encoded URL the request is sent to.
    :param headers: mapping or (name, value) pairs already on the request;
        ``Content-Type`` must be there if covered.
    :param body: exact body bytes; when given a ``Content-Digest`` is computed
        (or an existing one checked) and always covered. ``None`` = no digest.
    :param key: :class:`SigningKey` or :class:`HmacKey`; its kid is the ``keyid``
        unless ``key_id`` is given.
    :param ttl: seconds until ``expires``; ``None`` or 0 omits ``expires``.
    :param now: Unix seconds (or datetime) for ``created``; default: the clock.
    :returns: ``{"Signature-Input": ..., "Signature": ...}`` plus
        ``"Content-Digest"`` when this call generated it.
    """
    message = _Request(method=method, url=url, headers=_Headers(headers))
    return _sign(
        message,
        body,
        key,
        key_id=key_id,
        covered_components=covered_components,
        label=label,
        ttl=ttl,
        now=now,
        nonce=nonce,
        tag=tag,
        include_alg=include_alg,
        digest_algorithm=digest_algorithm,
        plain=functools.partial(request_signature, method, url),
    )


def _request_view(request):
    if request is None:
        return None
    method, url, headers = request
    return _Request(method=method, url=url, headers=_Headers(headers))


def sign_response(
    status: int,
    headers,
    body: bytes | None,
    key,
    *,
    request=None,
    covered_components=DEFAULT_RESPONSE_COMPONENTS,
    label: str = DEFAULT_LABEL,
    key_id: str | None = None,
    ttl: int | None = DEFAULT_HTTP_TTL,
    now=None,
    nonce: str | None = None,
    tag: str | None = None,
    include_alg: bool = True,
    digest_algorithm: str = "sha-256",
) -> dict:
    """Sign a response; same contract as :func:`sign_request`.

    ``request`` is an optional ``(method, url, headers)`` triple of the request
    being answered, needed only for components with the ``;req`` flag
    (e.g. ``'"@path";req'``) that bind the response to its request.
    """
    headers = _Headers(headers)
    message = _Response(status_code=int(status), headers=headers, request=_request_view(request))
    return _sign(
        message,
        body,
        key,
        key_id=key_id,
        covered_components=covered_components,
        label=label,
        ttl=ttl,
        now=now,
        nonce=nonce,
        tag=tag,
        include_alg=include_alg,
        digest_algorithm=digest_algorithm,
        plain=functools.partial(response_signature, status) if request is None else None,
    )


def _parse_dictionary(value: str, name: str) -> dict:
    try:
        return http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeError) as exc:
        raise MalformedSignature(f"{name} is not a valid Structured Field dictionary") from exc


def _select_signature(headers: _Headers, label, tag):
    """Return (label, covered items, params) of the signature to verify.

    When the message carries several signatures, ``Signature-Input`` and
    ``Signature`` are narrowed to the chosen one, so the library never has to
    select by (unsigned) label; a signature that covers those two fields
    cannot be narrowed and is refused.
    """
    raw_input = headers.get("Signature-Input")
    raw_signature = headers.get("Signature")
    if raw_input is None or raw_signature is None:
        raise SignatureMissing("the message has no Signature-Input/Signature")
    inputs = _parse_dictionary(raw_input, "Signature-Input")
    candidates = {
        name: member
        for name, member in inputs.items()
        if (label is None or name == label) and (tag is None or member[1].get("tag") == tag)
    }
    if not candidates:
        raise SignatureMissing("no signature with the expected label/tag")
    if len(candidates) > 1:
        raise MalformedSignature("several signatures match; pass label= or tag= to choose one")
    name, (items, params) = next(iter(candidates.items()))
    if not isinstance(items, list):
        raise MalformedSignature(f"Signature-Input member {name!r} must be an inner list")
    if len(inputs) > 1:
        if any(value in ("signature", "signature-input") for value, _params in items):
            raise MalformedSignature("signatures covering other signatures are not supported")
        signatures = _parse_dictionary(raw_signature, "Signature")
        if name not in signatures:
            raise MalformedSignature(f"no Signature member for label {name!r}")
        headers["Signature-Input"] = http_sf.ser({name: inputs[name]})
        headers["Signature"] = http_sf.ser({name: signatures[name]})
    return name, items, params


def _verify(
    message,
    body,
    resolver,
    *,
    required_components,
    label,
    tag,
    now,
    clock_skew,
    max_age,
    require_expires,
):
    name, items, params = _select_signature(message.headers, label, tag)
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignature('the signature has no "keyid"')

    covered = {(value, frozenset(item_params.items())) for value, item_params in items}
    for component in required_components:
        if _component_identity(component) not in covered:
            raise InsufficientCoverage(f"the signature does not cover {component}")

    if body is not None and (body or message.headers.get("Content-Digest") is not None):
        if not any(value == "content-digest" for value, _params in covered):
            raise InsufficientCoverage("the body is not covered: content-digest is not signed")

    key = resolver(key_id)
    if key is None:
        raise UnknownSigningKey("no key for this keyid")
    if isinstance(key, SigningKey):
        key = key.public_key
    try:
        algorithm = _http_algorithm(key)
    except TypeError as exc:
        raise UnknownSigningKey(str(exc)) from exc
    if "alg" in params and params["alg"] != algorithm:
        raise AlgorithmMismatch("the alg parameter does not match the key's algorithm")

    digest_value = message.headers.get("Content-Digest")
    if body is not None and digest_value is not None:
        verify_content_digest(digest_value, body)

    verifier = _Verifier(
        now=_now(now),
        clock_skew=clock_skew,
        max_age=max_age,
        require_expires=require_expires,
        signature_algorithm=_ALGORITHM_CLASSES[algorithm],
        key_resolver=_OneKeyResolver(key_id, _verification_material(key)),
    )
    try:
        results = verifier.verify(
            message, max_age=None, require_components=tuple(required_components), body=body
        )
    except SignatureError:
        raise
    except InvalidSignature as exc:
        raise BadSignature(f"HTTP signature does not verify: {exc}") from exc
    except HTTPMessageSignaturesException as exc:
        raise MalformedSignature(f"invalid HTTP signature: {exc}") from exc
    result = results[0]
    return HttpSignatureResult(
        label=result.label,
        key_id=key_id,
        algorithm=algorithm,
        created=result.parameters["created"],
        expires=result.parameters.get("expires"),
        covered_components=tuple(result.covered_components),
        parameters=dict(result.parameters),
        key=key,
    )


def verify_request(
    method: str,
    url: str,
    headers,
    body: bytes | None,
    resolver: HttpKeyResolver,
    *,
    required_components=REQUIRED_REQUEST_COMPONENTS,
    label: str | None = None,
    tag: str | None = None,
    now=None,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    max_age: int | None = DEFAULT_MAX_AGE,
    require_expires: bool = False,
) -> HttpSignatureResult:
    """Verify an incoming request's RFC 9421 signature.

    :param url: the absolute URL as the client addressed it (scheme, host and
        port as seen by the client, i.e. after undoing proxy rewrites).
    :param body: exact body bytes; checked against ``Content-Digest``, which
        must then be covered. ``None`` skips the body check.
    :param resolver: ``keyid -> PublicKey | HmacKey | None`` (an
        ``ec.EllipticCurvePublicKey`` on P-256 is accepted for peers using
        ``ecdsa-p256-sha256``). The algorithm follows from the key.
    :param label: choose this signature label; otherwise ``tag``, otherwise the
        message must carry exactly one signature.
    :param max_age: refuse signatures whose ``created`` is older (seconds);
        ``None`` disables the age limit (``expires`` still applies).
    :raises SignatureError: a subclass per failure (see :mod:`.signature`).
    """
    message = _Request(method=method, url=url, headers=_Headers(headers))
    return _verify(
        message,
        body,
        resolver,
        required_components=required_components,
        label=label,
        tag=tag,
        now=now,
        clock_skew=clock_skew,
        max_age=max_age,
        require_expires=require_expires,
    )


def verify_response(
    status: int,
    headers,
    body: bytes | None,
    resolver: HttpKeyResolver,
    *,
    request=None,
    required_components=REQUIRED_RESPONSE_COMPONENTS,
    label: str | None = None,
    tag: str | None = None,
    now=None,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    max_age: int | None = DEFAULT_MAX_AGE,
    require_expires: bool = False,
) -> HttpSignatureResult:
    """Verify a response's RFC 9421 signature; same contract as :func:`verify_request`.

    ``request`` is the ``(method, url, headers)`` we sent, for ``;req`` components.
    """
    message = _Response(
        status_code=int(status), headers=_Headers(headers), request=_request_view(request)
    )
    return _verify(
        message,
        body,
        resolver,
        required_components=required_components,
        label=label,
        tag=tag,
        now=now,
        clock_skew=clock_skew,
        max_age=max_age,
        require_expires=require_expires,
    )
