"""The RFC 9421 signature of a plain response, built without the library's generic walk.

Every answer of the DCI server is signed (``http_signature.sign_response``) over
``@status``, ``Content-Type`` and ``Content-Digest``; the ``http-message-signatures``
package builds that signature base through its generic component resolvers and
Structured Field serialisers, which cost more than the rest of a small answer.
:func:`response_signature` writes the same bytes directly for the simple case: plain
covered components (``@status`` and header names, lowercase, no parameters), each
header present once with a printable value, an ASCII key id, no nonce, no tag, no
existing ``Content-Digest``, no request-bound component. It returns None for anything
else, and ``sign_response`` then uses the library, so results never differ (tested
byte for byte against the library).
"""

import base64
import hashlib
import re

_HASHERS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
# RFC 8941 sf-key (a signature label) and a header name token we accept here
_LABEL = re.compile(r"[a-z*][a-z0-9_\-.*]*\Z")
_NAME = re.compile(r"@status\Z|[a-z0-9!#$%&'*+\-.^_`|~]+\Z")
# printable ASCII without the characters an sf-string escapes
_KEY_ID = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*\Z")


def _field_value(headers, name):
    """The one value of header ``name``, or None when absent, repeated or not simple."""
    found = None
    for key, value in headers:
        if key.lower() == name:
            if found is not None:
                return None
            found = value
    if found is None or found != found.strip(" \t") or not found.isprintable():
        return None
    return found


def response_signature(
    status,
    headers,
    body,
    key,
    *,
    http_algorithm,
    covered,
    label,
    key_id,
    created,
    expires,
    include_alg,
    digest_algorithm,
):
    """``{"Signature-Input", "Signature", "Content-Digest"}`` of a simple response, or None.

    ``headers``: ``(name, value)`` pairs; ``key``: a SigningKey or HmacKey (``sign``).
    """
    hasher = _HASHERS.get(digest_algorithm)
    if (
        body is None
        or hasher is None
        or not _LABEL.match(label)
        or not isinstance(key_id, str)
        or not _KEY_ID.match(key_id)
        or any(name.lower() == "content-digest" for name, _value in headers)
    ):
        return None
    names = list(covered)
    if "content-digest" not in names:
        names.append("content-digest")
    if len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
        return None
    digest = f"{digest_algorithm}=:{base64.b64encode(hasher(body).digest()).decode()}:"
    lines = []
    for name in names:
        if name == "@status":
            value = str(int(status))
        elif name == "content-digest":
            value = digest
        elif name == "set-cookie":
            return None
        else:
            value = _field_value(headers, name)
            if value is None:
                return None
        lines.append(f'"{name}": {value}')
    inner = " ".join(f'"{name}"' for name in names)
    params = f'({inner});created={int(created)};keyid="{key_id}"'
    if include_alg:
        params += f';alg="{http_algorithm}"'
    if expires:
        params += f";expires={int(expires)}"
    lines.append(f'"@signature-params": {params}')
    signature = key.sign("\n".join(lines).encode())
    return {
        "Signature-Input": f"{label}={params}",
        "Signature": f"{label}=:{base64.b64encode(signature).decode()}:",
        "Content-Digest": digest,
    }
