"""Canonical JSON (RFC 8785, JCS) and the DCI body digest.

The DCI body signature covers a SHA-256 digest of ``{"header": ..., "message": ...}``.
Sender and receiver must hash the *same bytes*, while the JSON they exchange is
free-form (whitespace, key order, number spelling). RFC 8785 gives one canonical
byte string per JSON value, so both sides canonicalise the parsed value and hash
that. The serialisation itself is done by the ``rfc8785`` package.
"""

import base64
import hashlib

import rfc8785

__all__ = [
    "DIGEST_PREFIX",
    "CanonicalizationError",
    "canonical_json",
    "digest_sha256",
    "to_json_data",
]

# draft-cavage / RFC 3230 ``Digest`` header form: ``SHA-256=<standard base64>``.
DIGEST_PREFIX = "SHA-256="


class CanonicalizationError(ValueError):
    """The value cannot be expressed as I-JSON (RFC 7493), so it has no JCS form.

    Typical causes: NaN/Infinity, integers outside +/-(2**53 - 1), non-string
    object keys, lone surrogates, or objects that are not JSON types
    (datetime, Decimal, ...) - dump those to JSON types first.
    """


def to_json_data(obj):
    """Return ``obj`` as plain JSON data.

    Pydantic models (anything with ``model_dump``) are dumped the way DCI messages
    go on the wire: ``mode="json"`` (dates become strings), ``exclude_none=True``
    and ``by_alias=True``. Everything else is returned unchanged; nested models
    inside plain dicts/lists are dumped too, so mixed structures work.
    """
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(obj, dict):
        return {key: to_json_data(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json_data(value) for value in obj]
    return obj


def canonical_json(obj) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``obj``.

    :raises CanonicalizationError: when ``obj`` is not representable in I-JSON.
    """
    try:
        return rfc8785.dumps(to_json_data(obj))
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(str(exc)) from exc


def digest_sha256(obj) -> str:
    """Return ``SHA-256=<base64(sha256(canonical_json(obj)))>``.

    Standard base64 with padding, as in draft-cavage-http-signatures' ``digest``
    pseudo-header (RFC 3230 syntax), which is what the DCI signing string names.
    """
    digest = hashlib.sha256(canonical_json(obj)).digest()
    return DIGEST_PREFIX + base64.b64encode(digest).decode("ascii")
