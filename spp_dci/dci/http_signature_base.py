"""RFC 9421 signatures of plain messages, built without the library's generic walk.

Every answer of the DCI server is signed (``http_signature.sign_response``) over
``@status``, ``Content-Type`` and ``Content-Digest``, and every callback it sends
(``http_signature.sign_request``) over ``@method``, ``@authority``, ``@path``,
``@query``, ``Content-Type`` and ``Content-Digest``; the ``http-message-signatures``
package builds those signature bases through its generic component resolvers and
Structured Field serialisers, which cost more than the rest of a small message.
:func:`response_signature` and :func:`request_signature` write the same bytes
directly for the simple case: plain covered components (derived ones and header
names, lowercase, no parameters), each header present once with a printable value,
an ASCII key id, no nonce, no tag, no existing ``Content-Digest``, no request-bound
component, and for a request a plain ``http(s)://host[:port]/path[?query]`` URL
(letters, digits and ``-._~!$&'()*+,;=:@/``; no user info, brackets, escapes or
fragment). They return None for anything else, and the callers then use the
library, so results never differ (tested byte for byte against the library).
"""

import base64
import hashlib
import re

_HASHERS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
# RFC 8941 sf-key (a signature label) and a header name token we accept here
_LABEL = re.compile(r"[a-z*][a-z0-9_\-.*]*\Z")
_NAME = re.compile(r"@[a-z-]+\Z|[a-z0-9!#$%&'*+\-.^_`|~]+\Z")
#: a plain absolute URL (the library's grammar, narrowed: see the module doc)
_PLAIN = r"A-Za-z0-9._~\-!$&'()*+,;=:@"
_URL = re.compile(
    rf"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.\-]+)(?::(?P<port>[0-9]*))?"
    rf"(?P<path>/[{_PLAIN}/]*)?(?:\?(?P<query>[{_PLAIN}/?]*))?\Z"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
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


def response_signature(status, headers, body, key, **options):
    """``{"Signature-Input", "Signature", "Content-Digest"}`` of a simple response, or None.

    ``headers``: ``(name, value)`` pairs; ``key``: a SigningKey or HmacKey (``sign``);
    ``options``: those of :func:`_signature`.
    """
    return _signature({"@status": str(int(status))}, headers, body, key, **options)


def request_signature(method, url, headers, body, key, **options):
    """The same for a simple request to ``url`` (None for anything else)."""
    match = _URL.match(url)
    if match is None or not method.isalpha():
        return None
    host, port = match["host"].lower(), match["port"]
    if port and port.lstrip("0") == _DEFAULT_PORTS[match["scheme"]]:
        port = None
    derived = {
        "@method": method,
        "@authority": f"{host}:{port}" if port else host,
        "@path": match["path"] or "/",
        "@query": "?" + (match["query"] or ""),
    }
    return _signature(derived, headers, body, key, **options)


def _signature(
    derived,
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
    """The signature headers over ``covered``: derived components from ``derived``
    (any other one: None), header fields from ``headers``, and the Content-Digest."""
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
        if name.startswith("@"):
            value = derived.get(name)
            if value is None:
                return None
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
