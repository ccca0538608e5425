"""Where we may send callbacks, and how: the SSRF guard and the HTTP POST.

A callback target (``header.sender_uri``, a subscription's notify URI) must:

1. be an absolute ``https://`` URL (``http://`` only when the sender allows
   private callbacks, i.e. test or internal networks), without user info;
2. name a host listed in the sender's *callback hosts* (``host``,
   ``host:port`` or ``*.domain``; exact, case-insensitive match);
3. resolve only to public addresses, unless the sender allows private
   callbacks (an administrator's decision, shown on the sender).

The check runs when the request arrives (``err.sender_uri.invalid``), again
right before each delivery (DNS may have changed), and a third time as the
connection is made: our HTTP client resolves the host itself, checks every
address and connects to one that passed (:class:`CheckedNetworkBackend`), so a
DNS answer that changes after a check (DNS rebinding) cannot send a callback to
an internal address. The URL keeps its host name: ``Host`` header, TLS SNI and
certificate check are those of the name. Redirects are not followed; proxies
from the environment (``HTTPS_PROXY``) are not used, the check must see the
connection.
"""

import ipaddress
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

import httpcore
import httpx

from odoo.addons.queue_job.exception import FailedJobError
from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

DELIVERY_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 64 * 1024

# One client per address policy and process: its connection pool keeps connections
# to the senders' callback hosts open between deliveries (a new client costs a pool,
# TLS context and connection each time). httpx clients are safe to share between
# threads. A pooled connection went to an address checked under the same policy.
_clients = {}
_clients_lock = threading.Lock()
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8)


class CheckedNetworkBackend(httpcore.SyncBackend):
    """Resolve, check and connect in one step: the socket goes to a checked address.

    ``allow_private=False``: every address of the host must be public (else the
    connection is refused with ``err.sender_uri.invalid``); the connection tries
    them in the resolver's order.
    """

    def __init__(self, allow_private):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except DCIError as exc:  # a DNS failure at send time is worth another attempt
            raise httpcore.ConnectError(exc.message) from exc
        if not self.allow_private:
            refuse_private(host, addresses, "callback URL")
        error = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host!r}")


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport over a :class:`CheckedNetworkBackend`."""

    def __init__(self, allow_private, limits=LIMITS):
        super().__init__(limits=limits)
        # httpx has no network-backend option; its pool (httpcore's public API) has one
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedNetworkBackend(allow_private),
        )


def client(allow_private):
    """The shared HTTP client of callbacks to senders with this address policy."""
    allow_private = bool(allow_private)
    if allow_private not in _clients:
        with _clients_lock:
            if allow_private not in _clients:
                _clients[allow_private] = httpx.Client(
                    transport=CheckedTransport(allow_private),
                    timeout=DELIVERY_TIMEOUT,
                    follow_redirects=False,
                )
    return _clients[allow_private]


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to (``summary``: the job result's text)."""

    summary: str
    gave_up: bool = False
    #: the delivery's values as written by the attempt (its last error, status, ...)
    values: dict = field(default_factory=dict)
    reason: str = ""


class DeliveryGaveUp(FailedJobError):
    """A delivery job's last attempt failed: the job ends *failed*, not retried."""


def gave_up_reason(summary):
    return f"the delivery gave up: {summary}"


class DeliveryError(Exception):
    """A delivery attempt failed; ``retryable`` tells whether to try again."""

    def __init__(self, message, *, status=None, retryable=True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable

    @property
    def unanswered(self):
        """The host did not answer at all (no HTTP status): worth trying later."""
        return self.retryable and not self.status


class DeliveryRequest(NamedTuple):
    """One signed callback POST, ready to send (no database needed to send it)."""

    url: str
    body: bytes
    headers: dict
    allow_private: bool


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
    """The addresses of ``host``, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID, f"cannot resolve callback host {host!r}"
        ) from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def refuse_private(host, addresses, field):
    """Raise ``err.sender_uri.invalid`` unless every address is public."""
    if not addresses or not all(_is_public(address) for address in addresses):
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID,
            f"{field} host {host!r} resolves to a private or reserved address",
        )


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
        refuse_private(parts.hostname, resolve(parts.hostname, port), field)
    return url


def post(url, body: bytes, headers: dict, *, allow_private, timeout=DELIVERY_TIMEOUT):
    """POST ``body`` to ``url``; return ``(status, parsed JSON or None)``.

    ``allow_private``: the sender's address policy (the connection checks it).

    :raises DeliveryError: network failure or non-2xx answer (4xx other than
        408/429 are not retried: the peer refused the message itself), or the
        host resolved to a refused address when connecting (not retried).
    """
    try:
        with client(allow_private).stream(
            "POST", url, content=body, headers=headers, timeout=timeout
        ) as response:
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_RESPONSE_BYTES:
                    break
            status = response.status_code
    except DCIError as exc:
        raise DeliveryError(exc.message, retryable=False) from exc
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


def send(request):
    """POST one DeliveryRequest: ``(status, parsed JSON or None)``, or the DeliveryError."""
    try:
        return post(request.url, request.body, request.headers, allow_private=request.allow_private)
    except DeliveryError as exc:
        return exc


def send_batch(requests, concurrency):
    """Send ``requests`` (DeliveryRequest, or the DeliveryError that prevented one) with up
    to ``concurrency`` POSTs in flight; their results in the same order (see :func:`send`),
    None for a request not sent.

    A batch's callbacks wait on the network, not on us: sent one after the other, a
    receiver 100 ms away would hold a batch of 50 for 5 s. Per callback host, the first
    request goes alone (the first of every host at once); when that host did not answer
    at all, its other requests are not sent (None: each becomes its own delivery job,
    rather than the batch waiting on a dead host for each), else they go concurrently.
    Only the POSTs run in the pool's threads: the caller prepared the requests and
    writes the outcomes in its own thread (the ORM is not shared between threads).
    """
    results = [request if isinstance(request, DeliveryError) else None for request in requests]
    by_host = {}
    for index, request in enumerate(requests):
        if not isinstance(request, DeliveryError):
            by_host.setdefault(urlsplit(request.url).netloc, []).append(index)
    if not by_host:
        return results
    workers = max(1, min(int(concurrency or 1), len(requests)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dci-callback") as pool:
        firsts = {host: pool.submit(send, requests[first]) for host, (first, *_) in by_host.items()}
        others = []
        for host, future in firsts.items():
            first, *rest = by_host[host]
            results[first] = future.result()
            if not (isinstance(results[first], DeliveryError) and results[first].unanswered):
                others += [(index, pool.submit(send, requests[index])) for index in rest]
        for index, future in others:
            results[index] = future.result()
    return results
