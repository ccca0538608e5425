"""Where we may send callbacks, and how: the SSRF guard and the HTTP POST.

A callback target (``header.sender_uri``, a subscription's notify URI) must:

1. be an absolute ``https://`` URL (``http://`` only when the sender allows
   private callbacks, i.e. test or internal networks), without user info;
2. name a host listed in the sender's *callback hosts* (``host``,
   ``host:port`` or ``*.domain``; exact, case-insensitive match);
3. resolve only to public addresses, unless the sender allows private
   callbacks (an administrator's decision, shown on the sender).

The check runs when the request arrives (``err.sender_uri.invalid``) and again
right before each delivery (DNS may have changed). Redirects are not followed.
"""

import ipaddress
import json
import socket
import threading
from urllib.parse import urlsplit

import httpx

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

DELIVERY_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 64 * 1024

# One client per process: its connection pool keeps connections to the senders'
# callback hosts open between deliveries (a new client costs a pool, TLS context
# and connection each time). httpx clients are safe to share between threads.
_client = None
_client_lock = threading.Lock()


def _shared_client():
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(
                    timeout=DELIVERY_TIMEOUT,
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
                )
    return _client


class DeliveryError(Exception):
    """A delivery attempt failed; ``retryable`` tells whether to try again."""

    def __init__(self, message, *, status=None, retryable=True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


def parse_hosts(text):
    """The callback host entries of a sender (one per line or comma separated)."""
    entries = []
    for part in (text or "").replace(",", "\n").splitlines():
        part = part.strip().lower()
        if part:
            entries.append(part)
    return entries


def host_allowed(host, port, entries):
    host = (host or "").lower().rstrip(".")
    for entry in entries:
        entry_host, _, entry_port = (
            entry.partition(":") if not entry.startswith("[") else (entry, "", "")
        )
        if entry_port and str(port) != entry_port:
            continue
        if entry_host.startswith("*."):
            suffix = entry_host[1:]
            if host.endswith(suffix) and host != suffix.lstrip("."):
                return True
        elif host == entry_host:
            return True
    return False


def _is_public(address):
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID, f"cannot resolve callback host {host!r}"
        ) from exc
    return sorted({info[4][0] for info in infos})


def check_callback_url(url, hosts_text, allow_private, *, field="header.sender_uri"):
    """Raise ``DCIError(err.sender_uri.invalid)`` unless ``url`` may receive callbacks."""
    if not isinstance(url, str) or not url:
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID, f"{field} is required for asynchronous requests"
        )
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise DCIError(ErrorCode.SENDER_URI_INVALID, f"{field} is not a valid URL") from exc
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise DCIError(ErrorCode.SENDER_URI_INVALID, f"{field} must be an absolute https:// URL")
    if parts.username or parts.password:
        raise DCIError(ErrorCode.SENDER_URI_INVALID, f"{field} must not contain credentials")
    if not host_allowed(parts.hostname, port, parse_hosts(hosts_text)):
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID,
            f"{field} host {parts.hostname!r} is not one of the sender's callback hosts",
        )
    if not allow_private:
        addresses = resolve(parts.hostname, port)
        if not addresses or not all(_is_public(address) for address in addresses):
            raise DCIError(
                ErrorCode.SENDER_URI_INVALID,
                f"{field} host {parts.hostname!r} resolves to a private or reserved address",
            )
    return url


def post(url, body: bytes, headers: dict, *, timeout=DELIVERY_TIMEOUT):
    """POST ``body`` to ``url``; return ``(status, parsed JSON or None)``.

    :raises DeliveryError: network failure or non-2xx answer (4xx other than
        408/429 are not retried: the peer refused the message itself).
    """
    try:
        client = _shared_client()
        with client.stream("POST", url, content=body, headers=headers, timeout=timeout) as response:
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_RESPONSE_BYTES:
                    break
            status = response.status_code
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        payload = None
    if not 200 <= status < 300:
        retryable = status >= 500 or status in (408, 425, 429)
        raise DeliveryError(
            f"HTTP {status} from the callback target", status=status, retryable=retryable
        )
    return status, payload
