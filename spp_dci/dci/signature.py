"""The DCI message (body) signature: one signer and one verifier.

A DCI envelope is ``{"signature": <str>, "header": {...}, "message": {...}}``.
The ``signature`` string follows the spec's ``MsgSignature`` example, which is
draft-cavage-http-signatures syntax carried inside the JSON body::

    Signature: namespace="spdci", kidId="{sender_id}|{key_id}|{algorithm}",
      algorithm="ed25519", created="1606970629", expires="1607030629",
      headers="(created) (expires) digest", signature="<base64>"

(one line; wrapped here). What is signed - the *signing string* - is::

    (created): <created>\\n(expires): <expires>\\ndigest: SHA-256=<base64>

UTF-8, ``\\n`` separated, no trailing newline, components in the order of the
``headers`` parameter. The digest is SHA-256 over the RFC 8785 canonical JSON
of ``{"header": header, "message": message}`` (the envelope without its
signature), see :mod:`.canonical`.

Format choices (docs/protocol-signatures.md has a worked example):

* We emit the leading ``Signature: `` as in every spec example, with one space,
  parameters in the order above, separated by ``", "``, all values quoted.
* We accept the value with or without the prefix, any spacing, ``keyId``
  (draft-cavage) as an alias of ``kidId``, parameter names in any case,
  unquoted integers for created/expires, namespace ``spdci`` or ``dci`` (the
  spec's sample messages use ``dci``), and ``headers`` listing the three
  components in any order (the signing string follows that order). Missing
  ``headers`` means the DCI default ``(created) (expires) digest``; any other
  set of components is refused, so expiry and digest are always covered.
* ``algorithm`` may be omitted on input; then the one inside ``kidId`` is used.
  When both are present they must agree, and must match the resolved key.
"""

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .canonical import CanonicalizationError, digest_sha256
from .keys import PublicKey, SigningKey, UnsupportedAlgorithm, normalize_algorithm

__all__ = [
    "ACCEPTED_NAMESPACES",
    "COVERED_COMPONENTS",
    "DCI_NAMESPACE",
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_TTL",
    "SIGNATURE_PREFIX",
    "AlgorithmMismatch",
    "BadSignature",
    "MalformedSignature",
    "SenderMismatch",
    "SignatureError",
    "SignatureExpired",
    "SignatureMissing",
    "SignatureNotYetValid",
    "SignatureParams",
    "UnknownSigningKey",
    "VerifiedSignature",
    "body_digest",
    "create_signature",
    "format_signature",
    "parse_signature",
    "signing_payload",
    "signing_string",
    "verify_signature",
]

DCI_NAMESPACE = "spdci"
ACCEPTED_NAMESPACES = ("spdci", "dci")
SIGNATURE_PREFIX = "Signature:"
COVERED_COMPONENTS = ("(created)", "(expires)", "digest")
DEFAULT_TTL = 600
DEFAULT_CLOCK_SKEW = 60

# Codes from the spec's Error.code enum (common/schema/Error.yaml).
ERR_SIGNATURE_MISSING = "err.signature.missing"
ERR_SIGNATURE_INVALID = "err.signature.invalid"
ERR_SENDER_ID_INVALID = "err.sender_id.invalid"

# Resolver used by the verifier: (sender_id, key_id) -> PublicKey or None.
KeyResolver = Callable[[str, str], PublicKey | None]


class SignatureError(Exception):
    """Base class of signature failures.

    ``code`` is the DCI error code to answer with; ``reason`` is a short stable
    token for logs/metrics. Messages never contain key material.
    """

    code = ERR_SIGNATURE_INVALID
    reason = "invalid"


class SignatureMissing(SignatureError):
    """No signature (envelope member or HTTP headers) where one is required."""

    code = ERR_SIGNATURE_MISSING
    reason = "missing"


class MalformedSignature(SignatureError):
    """The signature string cannot be parsed or breaks a format rule."""

    reason = "malformed"


class UnknownSigningKey(SignatureError):
    """No public key is registered for the sender and key id in ``kidId``."""

    reason = "unknown_key"


class BadSignature(SignatureError):
    """The signature does not verify over the received header and message."""

    reason = "bad_signature"


class SignatureExpired(SignatureError):
    """``expires`` (plus the clock-skew allowance) is in the past."""

    reason = "expired"


class SignatureNotYetValid(SignatureError):
    """``created`` is further in the future than the clock-skew allowance."""

    reason = "not_yet_valid"


class AlgorithmMismatch(SignatureError):
    """Unsupported algorithm, or the algorithms named or registered disagree."""

    reason = "algorithm_mismatch"


class SenderMismatch(SignatureError):
    """The signer in ``kidId`` is not the sender named by the header."""

    code = ERR_SENDER_ID_INVALID
    reason = "sender_mismatch"


@dataclass(frozen=True)
class SignatureParams:
    """Parsed parameters of a DCI signature string."""

    sender_id: str
    key_id: str
    algorithm: str
    created: int
    expires: int
    signature: bytes
    headers: tuple = COVERED_COMPONENTS
    namespace: str | None = DCI_NAMESPACE

    @property
    def kid_id(self) -> str:
        return f"{self.sender_id}|{self.key_id}|{self.algorithm}"


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established."""

    sender_id: str
    key_id: str
    algorithm: str
    created: int
    expires: int
    public_key: PublicKey
    digest: str = ""  # body digest that was verified (SHA-256=<base64>): reuse, not recompute


def _now(now) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        return int(now.timestamp())
    return int(now)


def signing_payload(header, message) -> dict:
    """The object whose canonical JSON is digested: the envelope minus ``signature``.

    A header-only envelope (``message`` is ``None``, e.g. a callback with
    ``status: rjct``) is digested as it travels: ``{"header": ...}``, no
    ``message`` member (the spec has no nullable fields, so none is sent).
    """
    payload = {"header": header}  # canonical_json dumps pydantic models as to_json_data does
    if message is not None:
        payload["message"] = message
    return payload


def body_digest(header, message) -> str:
    """``SHA-256=<base64>`` of the RFC 8785 form of ``{"header": ..., "message": ...}``."""
    return digest_sha256(signing_payload(header, message))


def signing_string(created: int, expires: int, digest: str, headers=COVERED_COMPONENTS) -> bytes:
    """The exact bytes that are signed (draft-cavage style)."""
    values = {"(created)": str(int(created)), "(expires)": str(int(expires)), "digest": digest}
    return "\n".join(f"{name}: {values[name]}" for name in headers).encode("utf-8")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_signature(params: SignatureParams, *, prefix: bool = True) -> str:
    """Serialise ``params`` in the MsgSignature form (see module doc)."""
    parts = [("namespace", params.namespace)] if params.namespace is not None else []
    parts += [
        ("kidId", params.kid_id),
        ("algorithm", params.algorithm),
        ("created", str(params.created)),
        ("expires", str(params.expires)),
        ("headers", " ".join(params.headers)),
        ("signature", base64.b64encode(params.signature).decode("ascii")),
    ]
    body = ", ".join(f"{name}={_quote(value)}" for name, value in parts)
    return f"{SIGNATURE_PREFIX} {body}" if prefix else body


_PREFIX_RE = re.compile(r"^\s*signature\s*:\s*", re.IGNORECASE)
_NAME_RE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*")
_TOKEN_RE = re.compile(r"[^\s,\"]+")
#: a quoted-string: any character but a quote or a backslash, or an escaped one
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_ALIASES = {"keyid": "kidid"}


def _parse_params(text: str) -> dict:
    """Parse ``name="value", name=token, ...`` (quoted-string escapes allowed)."""
    params = {}
    pos = 0
    length = len(text)
    while True:
        match = _NAME_RE.match(text, pos)
        if not match:
            raise MalformedSignature("expected name=value in signature")
        name = _ALIASES.get(match.group(1).lower(), match.group(1).lower())
        pos = match.end()
        if pos < length and text[pos] == '"':
            quoted = _QUOTED_RE.match(text, pos)
            if not quoted:  # the value runs to the end of the text
                trailing = len(text) - len(text.rstrip("\\"))
                if trailing % 2:
                    raise MalformedSignature("dangling escape in signature")
                raise MalformedSignature(f"unterminated quoted value for {name!r}")
            value = quoted.group(1)
            if "\\" in value:
                value = _ESCAPE_RE.sub(r"\1", value)
            pos = quoted.end()
        else:
            token = _TOKEN_RE.match(text, pos)
            if not token:
                raise MalformedSignature(f"empty value for {name!r}")
            value = token.group(0)
            pos = token.end()
        if name in params:
            raise MalformedSignature(f"duplicate parameter {name!r}")
        params[name] = value
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        if pos >= length:
            return params
        if text[pos] != ",":
            raise MalformedSignature("parameters must be separated by commas")
        pos += 1
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        if pos >= length:  # tolerate one trailing comma
            return params


def _parse_int(params: dict, name: str) -> int:
    value = params.get(name)
    if value is None:
        raise MalformedSignature(f"signature has no {name!r}")
    if not re.fullmatch(r"[0-9]{1,12}", value):
        raise MalformedSignature(f"{name!r} must be a Unix timestamp in seconds")
    return int(value)


def parse_signature(value: str) -> SignatureParams:
    """Parse a DCI signature string (with or without ``Signature:``).

    :raises MalformedSignature: on any syntax or consistency problem.
    """
    if not isinstance(value, str) or not value.strip():
        raise MalformedSignature("signature must be a non-empty string")
    text = _PREFIX_RE.sub("", value, count=1).strip()
    params = _parse_params(text)

    kid_id = params.get("kidid")
    if not kid_id:
        raise MalformedSignature("signature has no kidId/keyId")
    if kid_id.count("|") < 2:
        raise MalformedSignature("kidId must be '{sender_id}|{key_id}|{algorithm}'")
    sender_id, rest = kid_id.split("|", 1)
    key_id, kid_algorithm = rest.rsplit("|", 1)
    if not sender_id or not key_id or not kid_algorithm:
        raise MalformedSignature("kidId has an empty sender_id, key_id or algorithm")
    try:
        algorithm = normalize_algorithm(kid_algorithm)
        if "algorithm" in params and normalize_algorithm(params["algorithm"]) != algorithm:
            raise AlgorithmMismatch("algorithm parameter disagrees with kidId")
    except UnsupportedAlgorithm as exc:
        raise AlgorithmMismatch(str(exc)) from exc

    headers = tuple(params.get("headers", " ".join(COVERED_COMPONENTS)).lower().split())
    if sorted(headers) != sorted(COVERED_COMPONENTS):
        raise MalformedSignature('headers must be exactly "(created) (expires) digest"')

    created = _parse_int(params, "created")
    expires = _parse_int(params, "expires")
    if expires < created:
        raise MalformedSignature("expires is before created")

    encoded = params.get("signature")
    if not encoded:
        raise MalformedSignature("signature has no signature value")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature("signature value is not valid base64") from exc
    if not raw:
        raise MalformedSignature("signature value is empty")

    return SignatureParams(
        sender_id=sender_id,
        key_id=key_id,
        algorithm=algorithm,
        created=created,
        expires=expires,
        signature=raw,
        headers=headers,
        namespace=params.get("namespace"),
    )


def create_signature(
    header,
    message,
    signing_key: SigningKey,
    sender_id: str,
    *,
    ttl: int = DEFAULT_TTL,
    now=None,
    prefix: bool = True,
) -> str:
    """Sign ``header`` + ``message`` and return the DCI signature string.

    ``now`` (Unix seconds or datetime) fixes ``created``; ``expires = created + ttl``.
    """
    if not sender_id or "|" in sender_id:
        raise ValueError("sender_id must be non-empty and must not contain '|'")
    if "|" in signing_key.kid:
        raise ValueError("key ids used in DCI signatures must not contain '|'")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    created = _now(now)
    expires = created + int(ttl)
    digest = body_digest(header, message)
    raw = signing_key.sign(signing_string(created, expires, digest))
    params = SignatureParams(
        sender_id=sender_id,
        key_id=signing_key.kid,
        algorithm=signing_key.algorithm,
        created=created,
        expires=expires,
        signature=raw,
    )
    return format_signature(params, prefix=prefix)


def verify_signature(
    signature: str,
    header,
    message,
    resolver: KeyResolver,
    *,
    expected_sender_id: str | None = None,
    now=None,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    max_validity: int | None = None,
    accepted_namespaces=ACCEPTED_NAMESPACES,
) -> VerifiedSignature:
    """Verify a DCI signature string over ``header`` + ``message``.

    :param resolver: ``(sender_id, key_id) -> PublicKey | None``. Exceptions it
        raises (e.g. a JWKS fetch failure) propagate unchanged, so the caller
        can answer "try later" rather than "bad signature".
    :param expected_sender_id: when given (normally ``header["sender_id"]``),
        the sender inside ``kidId`` must equal it.
    :param clock_skew: seconds of tolerance on ``created`` and ``expires``.
    :param max_validity: if set, refuse signatures whose ``expires - created``
        exceeds it (bounds the replay window a signer can choose).
    :raises SignatureError: a subclass per reason, carrying ``code``.
    """
    params = parse_signature(signature)
    # The spec's security-scheme example has no namespace at all; only a present one is checked.
    if (
        params.namespace is not None
        and accepted_namespaces is not None
        and params.namespace not in accepted_namespaces
    ):
        raise MalformedSignature(f"unexpected signature namespace {params.namespace!r}")
    if expected_sender_id is not None and params.sender_id != expected_sender_id:
        raise SenderMismatch("the signer in kidId is not the header's sender_id")

    current = _now(now)
    if params.created > current + clock_skew:
        raise SignatureNotYetValid("signature created in the future")
    if params.expires < current - clock_skew:
        raise SignatureExpired("signature has expired")
    if max_validity is not None and params.expires - params.created > max_validity:
        raise MalformedSignature("signature validity period is longer than allowed")

    public_key = resolver(params.sender_id, params.key_id)
    if public_key is None:
        raise UnknownSigningKey("no public key for this sender and key id")
    if public_key.algorithm != params.algorithm:
        raise AlgorithmMismatch("signature algorithm does not match the registered key")

    try:
        digest = body_digest(header, message)
    except CanonicalizationError as exc:
        raise BadSignature(
            "the message cannot be canonicalised (RFC 8785), so no signature can match"
        ) from exc
    data = signing_string(params.created, params.expires, digest, params.headers)
    if not public_key.verify(params.signature, data):
        raise BadSignature("signature does not verify")
    return VerifiedSignature(
        sender_id=params.sender_id,
        key_id=params.key_id,
        algorithm=params.algorithm,
        created=params.created,
        expires=params.expires,
        public_key=public_key,
        digest=digest,
    )
