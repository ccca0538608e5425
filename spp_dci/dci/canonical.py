"""Canonical JSON (RFC 8785, JCS) and the DCI body digest.

The DCI body signature covers a SHA-256 digest of ``{"header": ..., "message": ...}``.
Sender and receiver must hash the *same bytes*, while the JSON they exchange is
free-form (whitespace, key order, number spelling). RFC 8785 gives one canonical
byte string per JSON value, so both sides canonicalise the parsed value and hash
that. Plain JSON is serialised by the standard library's C encoder, which writes the
same bytes for it; anything else by the ``rfc8785`` package.
"""

import base64
import hashlib
import json

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


#: I-JSON's integer range (RFC 7493): beyond it RFC 8785 has no canonical form
_MAX_SAFE_INTEGER = 2**53 - 1


class _NotPlain(Exception):
    pass


def _plain_data(obj):
    """``to_json_data(obj)``, in the same walk checked to be plain JSON (:func:`_plain`).

    :raises _NotPlain: a float, an integer beyond I-JSON, a non-ASCII or non-string key,
        any other type.
    """
    if isinstance(obj, str) or obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, dict):
        data = {}
        for key, value in obj.items():
            if not (isinstance(key, str) and key.isascii()):
                raise _NotPlain
            data[key] = _plain_data(value)
        return data
    if isinstance(obj, list | tuple):
        return [_plain_data(value) for value in obj]
    if type(obj) is int:
        if -_MAX_SAFE_INTEGER <= obj <= _MAX_SAFE_INTEGER:
            return obj
        raise _NotPlain
    if hasattr(obj, "model_dump"):
        return _plain_data(obj.model_dump(mode="json", exclude_none=True, by_alias=True))
    raise _NotPlain


def _plain(data) -> bool:
    """Whether ``data`` is JSON whose RFC 8785 form ``json.dumps`` writes byte for byte.

    Objects with ASCII keys (sorted alike by code point and by UTF-16 unit), strings,
    booleans, null and integers within I-JSON: ``json.dumps`` (C) escapes strings as
    ECMAScript does (the short escapes, other controls as lowercase ``\\u00xx``,
    nothing else). A float (ECMAScript number spelling) or anything else is not plain.
    """
    try:
        _plain_data(data)
    except _NotPlain:
        return False
    return True


def canonical_json(obj) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``obj``.

    Plain JSON (:func:`_plain`, every DCI message in practice) is written by the C
    encoder; anything else by the ``rfc8785`` package.

    :raises CanonicalizationError: when ``obj`` is not representable in I-JSON.
    """
    try:
        data = _plain_data(obj)
    except _NotPlain:
        data = to_json_data(obj)
    else:
        try:
            return json.dumps(
                data, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says why it has no canonical form
    try:
        return rfc8785.dumps(data)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(str(exc)) from exc


def digest_sha256(obj) -> str:
    """Return ``SHA-256=<base64(sha256(canonical_json(obj)))>``.

    Standard base64 with padding, as in draft-cavage-http-signatures' ``digest``
    pseudo-header (RFC 3230 syntax), which is what the DCI signing string names.
    """
    digest = hashlib.sha256(canonical_json(obj)).digest()
    return DIGEST_PREFIX + base64.b64encode(digest).decode("ascii")
