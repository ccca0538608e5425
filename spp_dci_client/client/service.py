# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The DCI client service: talk to one external DCI registry over HTTP (httpx).

Plain Python, no Odoo: the ``spp.dci.data.source`` model builds a
:class:`ClientSettings` from its fields and wraps each call with the exchange
log and the pending transactions. Everything DCI comes from ``spp_dci.dci``:

* envelopes are built and signed by :func:`spp_dci.dci.envelope.build_envelope`;
* answers are parsed by :mod:`spp_dci.dci.schemas` (the pydantic models of the
  spec) and their signature checked by :func:`spp_dci.dci.envelope.verify_envelope`
  with a key resolver the caller supplies (stored keys and/or the JWKS cache);
* refusals are read with the shapes of :mod:`spp_dci.dci.errors`.

An answer is only returned after (1) it parsed as JSON, (2) it matched the spec
model of its endpoint, (3) its signature verified (when signed, or always when
``require_signature``), and (4) it answers *our* transaction. Anything else
raises a :class:`~.errors.DCIClientError` whose message says what is wrong.

Transport: one ``httpx.Client`` per :class:`DCIClient` (reused across pages),
timeouts from the settings, TLS verification on by default, retries with
exponential backoff on transport failures (connection refused/reset, timeouts)
and on HTTP 429/502/503/504 - never on DNS or TLS failures, which do not heal by
retrying. A 401 with OAuth2 drops the cached token and retries once with a new one.
A retry re-sends the same envelope (same ``message_id``): when an earlier attempt
may have reached the registry (it timed out or lost its connection after sending,
or a gateway answered 504) and the registry refuses the re-send as
``rjct.message_id.duplicate``, the request is not rejected - the registry has it
and only its answer was lost: :class:`~.errors.DuplicateAfterTimeout`.
"""

import json
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from urllib.parse import urlsplit

import httpx

from odoo.addons.spp_dci.dci import json_body
from odoo.addons.spp_dci.dci.canonical import to_json_data
from odoo.addons.spp_dci.dci.codes import AckStatus, Action, QueryType, RequestStatus
from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.jwks import JWKSError
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.addons.spp_dci.dci.peer_keys import PeerKeys
from odoo.addons.spp_dci.dci.schemas import (
    MsgHeader,
    SearchCriteria,
    SearchRequest,
    SubscribeRequest,
    TxnStatusRequest,
    UnSubscribeRequest,
    parse_ack,
    parse_callback_envelope,
    parse_endpoint_reply,
    utc_now,
)
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS
from odoo.addons.spp_dci.dci.schemas.common import RequestEnvelope
from odoo.addons.spp_dci.dci.signature import (
    MalformedSignature,
    SignatureError,
    SignatureExpired,
    SignatureMissing,
    parse_signature,
)

from . import oauth2 as _oauth2
from .errors import (
    AuthenticationError,
    ConfigurationError,
    DCIClientError,
    DuplicateAfterTimeout,
    ProtocolMismatch,
    RegistryHTTPError,
    RegistryRejected,
    SignatureVerificationError,
    SpecViolation,
    TransportError,
)

_logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PATHS",
    "ENDPOINT_OF",
    "ClientSettings",
    "DCIClient",
    "Exchange",
    "SyncResult",
]

#: Spec path of each operation (same in every registry bundle; dr has no txn/status).
DEFAULT_PATHS = {
    "sync_search": "/registry/sync/search",
    "search": "/registry/search",
    "subscribe": "/registry/subscribe",
    "unsubscribe": "/registry/unsubscribe",
    "txn_status": "/registry/txn/status",
    "sync_txn_status": "/registry/sync/txn/status",
}
#: The spec endpoint (key of ``spp_dci.dci.schemas.ENDPOINTS``) behind each operation,
#: used to validate answers even when the data source overrides the path.
ENDPOINT_OF = dict(DEFAULT_PATHS)


def _endpoint(spec_path):
    try:
        return ENDPOINTS[spec_path]
    except KeyError:
        raise ConfigurationError(f"{spec_path} is not a DCI 1.0.0 endpoint.") from None


OAUTH2_TOKEN_PATH = "/oauth2/client/token"
JWKS_PATH = "/.well-known/jwks.json"

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Transport failures after which the request surely did not reach the registry.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DUPLICATE = "rjct.message_id.duplicate"
MAX_BACKOFF = 30.0
#: Pages fetched at most by one ``iter_search`` (a registry that never stops is a bug).
MAX_PAGES = 100_000


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Exchange:
    """One HTTP exchange, reported to ``ClientSettings.observer`` (the exchange log)."""

    action: str
    url: str
    direction: str = "outgoing"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_ms: int = 0
    http_status: int | None = None
    status: str = "ok"  # ok | error | refused
    error_kind: str | None = None
    error: str | None = None
    transaction_id: str | None = None
    correlation_id: str | None = None
    message_id: str | None = None
    request_body: object = None
    response_body: object = None
    attempt: int = 1
    #: an earlier attempt of this envelope may have reached the registry (timeout, 504)
    resent: bool = False
    remote_address: str | None = None  # incoming: the caller's IP address
    #: what an administrator should know about an accepted answer (e.g. taken as unsigned)
    note: str | None = None


@dataclass
class ClientSettings:
    """Everything :class:`DCIClient` needs; built by ``spp.dci.data.source``."""

    base_url: str
    sender_id: str
    signer: SigningKey | None
    #: the registry's keys (its peer's): the one signature check of what it signs
    peer_keys: PeerKeys | None = None
    registry_sender_id: str | None = None
    paths: dict = field(default_factory=lambda: dict(DEFAULT_PATHS))
    bearer_token: str | None = None
    oauth2: _oauth2.OAuth2ClientCredentials | None = None
    timeout: float = 30.0
    connect_timeout: float | None = None
    retries: int = 2
    backoff: float = 0.5
    verify_tls: object = True
    require_signature: bool = True
    max_response_bytes: int = 64 * 1024 * 1024
    observer: Callable | None = None
    token_cache: _oauth2.TokenCache = field(default_factory=lambda: _oauth2.TOKEN_CACHE)

    def __repr__(self):  # never show secrets
        return f"ClientSettings(base_url={self.base_url!r}, sender_id={self.sender_id!r})"


@dataclass
class SyncResult:
    """A verified, spec-valid synchronous answer (or callback)."""

    header: object | None  # pydantic header; None for the IBR bare-message replies
    message: object | None  # pydantic message model
    data: dict  # the raw JSON body as received (what was verified)
    key_id: str | None  # kid of the key that verified the signature (None: unsigned)
    envelope: object | None = None  # the pydantic envelope, when the answer is one
    note: str | None = None  # see Exchange.note


def _url(base_url: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_transport_error(exc: Exception, url: str, timeout: float) -> TransportError:
    """Turn an httpx exception into a plain-words :class:`TransportError`."""
    parts = urlsplit(url)
    host = parts.hostname or url
    where = f"{host}:{parts.port}" if parts.port else host
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return TransportError(
                f"DNS: the host name {host!r} cannot be resolved ({cause.strerror or cause}). "
                "Check the base URL and the server's DNS.",
                kind="dns",
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TransportError(
                f"TLS: the certificate of {where} is not trusted "
                f"({cause.verify_message or cause}). "
                "Install the registry's CA, fix its certificate, or (test systems only) "
                "turn off TLS verification.",
                kind="tls",
            )
        if isinstance(cause, ssl.SSLError):
            return TransportError(
                f"TLS: the secure connection to {where} failed ({cause.reason or cause}). "
                "Does the registry speak HTTPS on this port?",
                kind="tls",
            )
    if isinstance(exc, httpx.ConnectTimeout):
        return TransportError(
            f"Timeout: {where} did not accept a connection within {timeout:g} s.", kind="timeout"
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"Timeout: {where} did not answer within {timeout:g} s.", kind="timeout"
        )
    if isinstance(exc, httpx.ConnectError):
        for cause in _chain(exc):
            if isinstance(cause, ConnectionRefusedError):
                return TransportError(
                    f"Connection refused by {where}: nothing listens there. "
                    "Check the base URL and port.",
                    kind="connect",
                )
        return TransportError(f"Cannot connect to {where}: {exc}.", kind="connect")
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransportError(
            f"{where} closed the connection or did not answer with valid HTTP ({exc}).",
            kind="network",
        )
    return TransportError(
        f"Network error talking to {where}: {exc.__class__.__name__}: {exc}.", kind="network"
    )


def _retryable(error: TransportError) -> bool:
    return error.kind in ("timeout", "connect", "network")


def describe_signature_error(exc: Exception) -> SignatureVerificationError:
    if isinstance(exc, JWKSError):
        return SignatureVerificationError(
            "Cannot check the signature: the registry's public keys could not be loaded "
            f"from its JWKS ({exc}).",
            kind="jwks",
        )
    if isinstance(exc, SignatureMissing):
        text = "The answer is not signed, but this data source requires signed answers."
    elif isinstance(exc, SignatureExpired):
        text = (
            "Bad signature: the answer's signature has expired "
            "(replayed, or the registry's clock is wrong)."
        )
    elif isinstance(exc, SignatureError) and exc.reason == "unknown_key":
        text = (
            "Bad signature: it was made with a key this data source does not know "
            "(not in the registry's JWKS nor in its stored public keys), or by another sender."
        )
    elif isinstance(exc, SignatureError) and exc.reason == "bad_signature":
        text = (
            "Bad signature: the answer's signature does not match its content (forged or altered)."
        )
    elif isinstance(exc, SignatureError) and exc.reason == "sender_mismatch":
        text = "Bad signature: the answer is signed by another sender than the one in its header."
    elif isinstance(exc, MalformedSignature):
        text = (
            f"Bad signature: the answer's signature is not a DCI signature ({exc}), and this "
            "data source requires signed answers. Ask the registry's operator to sign its "
            "answers as DCI 1.0.0 describes (Signature: namespace, kidId "
            '"sender_id|key_id|algorithm", created, expires, headers, signature), or, for a '
            'registry that does not sign, untick "Require Signature" on this data source.'
        )
    else:
        text = f"Bad signature: {exc}."
    return SignatureVerificationError(text, code=getattr(exc, "code", None))


class DCIClient:
    """A client for one registry; use as a context manager (closes the HTTP client)."""

    def __init__(self, settings: ClientSettings, *, transport: httpx.BaseTransport | None = None):
        if not settings.base_url or not settings.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "The data source needs a base URL starting with https:// (or http://)."
            )
        if not settings.sender_id:
            raise ConfigurationError("Our DCI sender id is not set (DCI > Configuration).")
        self.settings = settings
        timeout = httpx.Timeout(
            settings.timeout, connect=settings.connect_timeout or settings.timeout
        )
        self._http = httpx.Client(
            timeout=timeout,
            verify=settings.verify_tls,
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "OpenSPP-DCI-client/1.0"},
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._http.close()

    # -- building requests ----------------------------------------------------------------

    def _header(self, action: Action, total_count: int, sender_uri: str | None = None) -> MsgHeader:
        return MsgHeader(
            message_id=new_id(),
            message_ts=utc_now(),
            action=action,
            sender_id=self.settings.sender_id,
            sender_uri=sender_uri,
            receiver_id=self.settings.registry_sender_id or None,
            total_count=total_count,
        )

    def _envelope(self, action: Action, message, total_count: int, sender_uri=None) -> dict:
        if self.settings.signer is None:
            raise ConfigurationError(
                "No signing key: activate one under DCI > Configuration > Signing keys."
            )
        header = self._header(action, total_count, sender_uri)
        try:
            RequestEnvelope[type(message)](header=header, message=message)
        except Exception as exc:  # a bug of ours or bad criteria: do not send it
            raise ConfigurationError(f"The request we would send is not valid DCI: {exc}") from exc
        return build_envelope(header, message, self.settings.signer, self.settings.sender_id)

    @staticmethod
    def search_criteria(query_type, query, **criteria) -> SearchCriteria:
        """A validated ``search_criteria``.

        ``query_type``: ``idtype-value``, ``expression``, ``predicate`` or ``graphql``.
        """
        try:
            return SearchCriteria.model_validate(
                {"query_type": QueryType(query_type), "query": query, **criteria}
            )
        except Exception as exc:
            raise ConfigurationError(f"Invalid search criteria: {exc}") from exc

    @staticmethod
    def _search_request(transaction_id: str, criteria_list, locale=None) -> SearchRequest:
        items = []
        for criteria in criteria_list:
            item = {"reference_id": new_id(), "timestamp": utc_now(), "search_criteria": criteria}
            if locale:
                item["locale"] = locale
            items.append(item)
        try:
            return SearchRequest.model_validate(
                {"transaction_id": transaction_id, "search_request": items}
            )
        except Exception as exc:
            raise ConfigurationError(f"Invalid search request: {exc}") from exc

    # -- transport --------------------------------------------------------------------------

    def _report(self, exchange: Exchange):
        if self.settings.observer is not None:
            try:
                self.settings.observer(exchange)
            except Exception:  # the log must never break the exchange
                _logger.exception("DCI client: could not record the exchange log entry")

    def _token(self, force_new=False) -> str | None:
        if self.settings.oauth2 is None:
            return self.settings.bearer_token or None
        creds = self.settings.oauth2
        cache = self.settings.token_cache
        key = creds.cache_key
        if not force_new:
            token = cache.get(key)
            if token is not None:
                return token.access_token
        with cache.lock(key):
            if not force_new:
                token = cache.get(key)
                if token is not None:
                    return token.access_token
            access_token, lifetime = self._fetch_token(creds)
            cache.put(key, access_token, lifetime)
            return access_token

    def _fetch_token(self, creds: _oauth2.OAuth2ClientCredentials):
        """POST the client credentials, form-encoded (authz spec); returns (token, lifetime)."""
        if not creds.client_id or not creds.client_secret:
            raise ConfigurationError("OAuth2 needs a client id and a client secret.")
        exchange = Exchange(action="oauth2-token", url=creds.token_url)
        start = time.monotonic()
        try:
            response = self._http.post(
                creds.token_url,
                data=creds.form(),
                # the authz spec's (transport-level) request headers
                headers={"timestamp": _http_date(), "message_id": new_id()},
            )
        except httpx.HTTPError as exc:
            error = describe_transport_error(exc, creds.token_url, self.settings.timeout)
            self._finish(exchange, start, error=error)
            raise error from exc
        exchange.http_status = response.status_code
        body = _json_or_none(response.content)
        exchange.response_body = (
            _redact_token(body) if body is not None else _text_excerpt(response.content)
        )
        if response.status_code in (400, 401, 403):
            detail = body.get("error") if isinstance(body, dict) else None
            error = AuthenticationError(
                "The registry's token endpoint refused our OAuth2 client id/secret "
                f"(HTTP {response.status_code}{', ' + str(detail) if detail else ''}).",
                http_status=response.status_code,
            )
            self._finish(exchange, start, error=error)
            raise error
        if response.status_code != 200:
            hint = (
                ": no token endpoint there. Check the data source's Token URL (empty: the "
                f"base URL + {OAUTH2_TOKEN_PATH})"
                if response.status_code in (404, 405)
                else ""
            )
            error = RegistryHTTPError(
                f"The registry's token endpoint answered HTTP {response.status_code} at "
                f"{creds.token_url}{hint}.",
                http_status=response.status_code,
            )
            self._finish(exchange, start, error=error)
            raise error
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("access_token"), str)
            or not body["access_token"]
        ):
            error = SpecViolation(
                "The token endpoint's answer has no access_token "
                "(authz spec OAuth2ClientTokenResponse)."
            )
            self._finish(exchange, start, error=error)
            raise error
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            error = SpecViolation(
                f"The token endpoint issued a {token_type!r} token; DCI uses bearer tokens."
            )
            self._finish(exchange, start, error=error)
            raise error
        self._finish(exchange, start)
        return body["access_token"], _oauth2.parse_lifetime(body.get("expires_in"))

    def _finish(self, exchange: Exchange, start: float, error: DCIClientError | None = None):
        exchange.duration_ms = int((time.monotonic() - start) * 1000)
        if error is not None:
            exchange.status = "error"
            exchange.error_kind = error.kind
            exchange.error = str(error)
        self._report(exchange)

    def _path(self, operation):
        return self.settings.paths.get(operation) or DEFAULT_PATHS[operation]

    def _post(self, path: str, action: Action, envelope: dict, *, transaction_id=None):
        """POST ``envelope``; returns ``(status, json, raw, exchange, start)`` of the last attempt.

        Earlier attempts (retries, the 401 before a token refresh) are reported
        as they fail. The last attempt's exchange is *not* reported yet: the
        caller completes it (validation, signature) and calls :meth:`_finish`.
        """
        url = _url(self.settings.base_url, path)
        content = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        retries = max(int(self.settings.retries or 0), 0)
        attempt = 0
        refreshed = False
        resent = False
        while True:
            attempt += 1
            exchange = Exchange(
                action=action.value,
                url=url,
                transaction_id=transaction_id,
                message_id=envelope["header"]["message_id"],
                request_body=envelope,
                attempt=attempt,
                resent=resent,
            )
            headers = {"Content-Type": "application/json"}
            try:
                token = self._token()  # the token request is logged on its own
            except TransportError as error:
                if _retryable(error) and attempt <= retries:
                    self._sleep(attempt)
                    continue
                raise
            start = time.monotonic()
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                status, raw, retry_after = self._send(url, content, headers)
            except TransportError as error:  # too large: not worth retrying
                self._finish(exchange, start, error=error)
                raise
            except httpx.HTTPError as exc:
                error = describe_transport_error(exc, url, self.settings.timeout)
                self._finish(exchange, start, error=error)
                resent = resent or not isinstance(exc, NOT_SENT)
                if _retryable(error) and attempt <= retries:
                    self._sleep(attempt)
                    continue
                raise error from exc
            exchange.http_status = status
            body = _json_or_none(raw)
            exchange.response_body = body if body is not None else _text_excerpt(raw)
            if status == 401 and self.settings.oauth2 is not None and not refreshed:
                refreshed = True
                self.settings.token_cache.invalidate(self.settings.oauth2.cache_key, token)
                self._finish(
                    exchange,
                    start,
                    error=AuthenticationError(
                        "HTTP 401: access token refused; fetching a new one", http_status=401
                    ),
                )
                continue
            if status in RETRY_STATUSES and attempt <= retries:
                resent = resent or status == 504
                self._finish(
                    exchange,
                    start,
                    error=RegistryHTTPError(f"HTTP {status}; retrying", http_status=status),
                )
                self._sleep(attempt, retry_after)
                continue
            return status, body, raw, exchange, start

    def _send(self, url, content, headers):
        """One POST with a cap on the answer's size; returns ``(status, bytes, retry_after)``."""
        with self._http.stream("POST", url, content=content, headers=headers) as response:
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.settings.max_response_bytes:
                    raise TransportError(
                        f"The answer is larger than {self.settings.max_response_bytes} bytes.",
                        kind="too_large",
                    )
                chunks.append(chunk)
            return (
                response.status_code,
                b"".join(chunks),
                _retry_after(response.headers.get("retry-after")),
            )

    def _sleep(self, attempt, retry_after=None):
        delay = float(self.settings.backoff or 0) * (2 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, retry_after)
        time.sleep(min(delay, MAX_BACKOFF))

    # -- reading answers ----------------------------------------------------------------------

    def _http_error(self, status, body, url=None) -> DCIClientError:
        """A plain-words error for a non-2xx answer (HttpErrorResponse or ERR ACK).

        ``url``: where the request went, named in the message, with what to check
        when nothing answers DCI requests there (404, 405).
        """
        detail = ""
        code = None
        if isinstance(body, dict):
            errors = body.get("errors")
            message = body.get("message")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                code = errors[0].get("code")
                detail = f": {code} {errors[0].get('message') or ''}".rstrip()
            elif isinstance(message, dict) and isinstance(message.get("error"), dict):
                code = message["error"].get("code")
                detail = f": {code} {message['error'].get('message') or ''}".rstrip()
        if status in (401, 403) and str(code or "").startswith(("err.signature", "err.sender_id")):
            return AuthenticationError(
                f"HTTP {status}: the registry refused our signature{detail}. Check that it "
                "knows our sender id and our public key (our JWKS), and our clock.",
                http_status=status,
                code=code,
            )
        if status in (401, 403):
            what = (
                "our access token"
                if self.settings.oauth2 or self.settings.bearer_token
                else "the request"
            )
            return AuthenticationError(
                f"HTTP {status}: the registry refused {what}{detail}. "
                "Check the authentication settings, and that the registry knows "
                "our sender id and public key.",
                http_status=status,
                code=code,
            )
        where = f" at {url}" if url else ""
        if status in (404, 405):
            return RegistryHTTPError(
                f"The registry answered HTTP {status}{where}{detail}: no DCI endpoint answers "
                "there. Check the data source's Base URL (the registry's DCI root, e.g. "
                "https://crvs.example.org/dci) and the path of this call on its Paths tab.",
                http_status=status,
                code=code,
            )
        return RegistryHTTPError(
            f"The registry answered HTTP {status}{detail}" + (f" (at {url})." if url else "."),
            http_status=status,
            code=code,
        )

    def _unsigned_note(self, data: dict) -> str | None:
        """Why a present ``signature`` is taken as absent; None when it is to be verified.

        Only when signatures are not required: what is not a DCI signature at all
        (a placeholder string...) is treated as unsigned; a DCI signature that does
        not verify is still refused, since that is what a forgery looks like.
        """
        signature = data.get("signature")
        if self.settings.require_signature or signature in (None, ""):
            return None
        try:
            parse_signature(signature)
        except MalformedSignature as exc:
            return (
                f"The answer's signature is not a DCI signature ({exc}): accepted as unsigned, "
                "as this data source does not require signed answers."
            )
        return None

    def _verify(self, data: dict, callback=False):
        """Check the answer's signature; returns the verifying kid (None: unsigned, allowed).

        ``callback``: the header may leave out ``sender_id`` (``MsgCallbackHeader``);
        the signer must then be this registry.
        """
        peer = self.settings.peer_keys
        if peer is None or not peer.has_keys:
            if self.settings.require_signature:
                raise ConfigurationError(
                    "Signed answers are required but the data source has no JWKS URL "
                    "and no public keys."
                )
            # unsigned allowed, a signature present cannot be checked: refused as unknown key
            peer = PeerKeys(self.settings.registry_sender_id or "")
        try:
            verified = peer.verify(
                data, require_signature=self.settings.require_signature, callback=callback
            )
        except (SignatureError, JWKSError) as exc:
            raise describe_signature_error(exc) from exc
        return verified.key_id if verified else None

    def verify_answer(self, spec_path: str, data: dict) -> SyncResult:
        """Validate the answer of sync endpoint ``spec_path`` against the spec, then its signature.

        The IBR ``/registry/sync/enrolled`` and ``/sync/enrollment/updates`` replies are
        bare messages in the spec (no header, no signature): they are validated only.
        """
        endpoint = _endpoint(spec_path)
        try:
            parsed = parse_endpoint_reply(spec_path, data)
        except DCIError as exc:
            raise SpecViolation(
                f"The registry's answer does not follow the DCI 1.0.0 spec: {exc.message}"
            ) from exc
        if endpoint.reply_action is None:
            # No envelope means no signature: only acceptable when the data source allows it.
            if self.settings.require_signature:
                raise SignatureVerificationError(
                    f"{spec_path} answers without an envelope, so it cannot be signed, "
                    "and this data source requires signed answers."
                )
            return SyncResult(header=None, message=parsed, data=data, key_id=None)
        self._check_sender(data)
        note = self._unsigned_note(data)
        key_id = self._verify({k: v for k, v in data.items() if k != "signature"} if note else data)
        return SyncResult(parsed.header, parsed.message, data, key_id, parsed, note=note)

    def accept_callback(self, action, data: dict, key_id: str | None) -> SyncResult:
        """Validate an incoming callback (on-search, notify...) whose signature is checked.

        The DCI app that received it (spp_dci_server) verified its signature with
        the keys of the registry's peer, the same keys as ours: ``key_id`` is the
        kid that verified it (None: unsigned, the peer's policy allowing it). It
        is not verified a second time; here it is validated against the spec and
        its sender must be this registry.
        """
        try:
            envelope = parse_callback_envelope(data, Action(action))
        except DCIError as exc:
            raise SpecViolation(
                f"The callback does not follow the DCI 1.0.0 spec: {exc.message}"
            ) from exc
        self._check_sender(data)
        return SyncResult(envelope.header, envelope.message, data, key_id, envelope)

    def _check_sender(self, data):
        expected = self.settings.registry_sender_id
        sender = (data.get("header") or {}).get("sender_id")
        if expected and sender and sender != expected:
            raise SignatureVerificationError(
                f"The answer comes from sender {sender!r}, not from this registry ({expected!r}).",
                code="err.sender_id.invalid",
            )

    def _sync_call(self, spec_path, path, message, total_count, transaction_id) -> SyncResult:
        action = _endpoint(spec_path).action
        envelope = self._envelope(action, message, total_count)
        status, body, raw, exchange, start = self._post(
            path, action, envelope, transaction_id=transaction_id
        )
        try:
            if exchange.resent and _is_duplicate(status, body):
                raise _duplicate_error(status)
            if status >= 300:
                raise self._http_error(status, body, exchange.url)
            if body is None:
                raise SpecViolation(
                    f"The registry's answer is not JSON (HTTP {status}, {len(raw)} bytes): "
                    "is the base URL a DCI registry?"
                )
            if not isinstance(body, dict):
                raise SpecViolation("The registry's answer is JSON but not a DCI envelope object.")
            message = body.get("message")
            if isinstance(message, dict) and "ack_status" in message and "header" not in body:
                raise self._ack_error(body)
            result = self.verify_answer(spec_path, body)
            exchange.note = result.note
            exchange.correlation_id = getattr(result.message, "correlation_id", None)
            self._check_answer(result, transaction_id)
        except DCIClientError as error:
            self._finish(exchange, start, error=error)
            raise
        self._finish(exchange, start)
        return result

    def _ack_error(self, body) -> DCIClientError:
        try:
            ack = parse_ack(body).message
        except DCIError as exc:
            return SpecViolation(
                f"The registry's acknowledgement does not follow the DCI 1.0.0 spec: {exc.message}"
            )
        if ack.ack_status == AckStatus.ERR and ack.error is not None:
            return RegistryRejected(
                f"The registry refused the request: {ack.error.code.value}"
                + (f" ({ack.error.message})" if ack.error.message else "")
                + ".",
                code=ack.error.code.value,
            )
        return SpecViolation(
            "The registry answered a synchronous request with an acknowledgement "
            f"({ack.ack_status})."
        )

    @staticmethod
    def _check_answer(result: SyncResult, transaction_id):
        header = result.header
        if header is None:
            pass
        elif header.is_msg_encrypted:
            raise RegistryRejected(
                "The registry sent an encrypted message; "
                "this client does not decrypt DCI messages.",
                kind="encrypted",
            )
        elif header.status == RequestStatus.RJCT and result.message is None:
            reason = (
                header.status_reason_code.value if header.status_reason_code else "no reason code"
            )
            raise RegistryRejected(
                f"The registry rejected the request: {reason}"
                + (f" ({header.status_reason_message})" if header.status_reason_message else "")
                + ".",
                code=reason,
            )
        message = result.message
        if message is not None and message.transaction_id != transaction_id:
            raise ProtocolMismatch(
                f"The answer is for transaction {message.transaction_id!r}, "
                f"not ours ({transaction_id!r})."
            )

    # -- operations ---------------------------------------------------------------------------

    def sync_search(self, criteria_list, *, transaction_id=None, locale=None) -> SyncResult:
        """``POST /registry/sync/search`` with one search request per criteria."""
        transaction_id = transaction_id or new_id()
        message = self._search_request(transaction_id, criteria_list, locale)
        return self._sync_call(
            ENDPOINT_OF["sync_search"],
            self._path("sync_search"),
            message,
            len(message.search_request),
            transaction_id,
        )

    def sync_call(self, spec_path, message, *, path=None, total_count=1) -> SyncResult:
        """Signed request to any synchronous endpoint of the spec; returns the verified answer.

        For the registry-specific paths (IBR ``/registry/sync/enrolled``, DR
        ``/registry/sync/disabled``, ``/get-disability-details``...): ``spec_path``
        names the endpoint (a key of ``spp_dci.dci.schemas.ENDPOINTS``), whose
        models validate ``message`` (a dict or model) and the answer; ``path``
        overrides where it is sent (default: ``spec_path`` under the base URL).
        """
        endpoint = _endpoint(spec_path)
        if not endpoint.is_sync:
            raise ConfigurationError(f"{spec_path} is not a synchronous endpoint.")
        try:
            message = endpoint.message.model_validate(to_json_data(message))
        except Exception as exc:
            raise ConfigurationError(f"Invalid {spec_path} request: {exc}") from exc
        return self._sync_call(
            spec_path, path or spec_path, message, total_count, message.transaction_id
        )

    def iter_search_pages(
        self, criteria, *, page_size=100, max_pages=MAX_PAGES, locale=None
    ) -> Iterator:
        """Yield each page (a ``SearchResponseItem``) of one search, fetching the next on demand.

        Memory-bounded: only the current page is held. Paging follows the
        answer's ``pagination`` (``page_number * page_size >= total_count``
        ends it) and stops on an empty page. A rejected page raises
        :class:`RegistryRejected`.
        """
        page_number = 1
        while page_number <= max_pages:
            item = self.search_page(criteria, page_number, page_size=page_size, locale=locale)
            if item is None:
                return
            yield item
            page_number = next_page_number(item)
            if page_number is None:
                return
        raise RegistryRejected(
            f"Stopped after {max_pages} pages: the registry keeps announcing more results."
        )

    def search_page(self, criteria, page_number, *, page_size=100, locale=None):
        """One page (a ``SearchResponseItem``) of a search, None for an answer without items;
        a rejected page raises :class:`RegistryRejected`. Resumable imports fetch their pages
        one by one with it."""
        data = (
            criteria.to_json()
            if isinstance(criteria, SearchCriteria)
            else SearchCriteria.model_validate(criteria).to_json()
        )
        data["pagination"] = {"page_size": page_size, "page_number": page_number}
        page_criteria = SearchCriteria.model_validate(data)
        result = self.sync_search([page_criteria], locale=locale)
        if not result.message.search_response:  # spec-valid: no item, no more records
            return None
        item = result.message.search_response[0]
        if item.status == RequestStatus.RJCT:
            reason = item.status_reason_code.value if item.status_reason_code else "no reason code"
            raise RegistryRejected(
                f"The registry rejected page {page_number}: {reason}"
                + (f" ({item.status_reason_message})" if item.status_reason_message else "")
                + ".",
                code=reason,
            )
        return item

    def iter_records(self, criteria, **kwargs) -> Iterator[dict]:
        """Yield every record of every page of one search (see :meth:`iter_search_pages`)."""
        for item in self.iter_search_pages(criteria, **kwargs):
            yield from records_of(item)

    def _async_call(self, operation, action, message, total_count, transaction_id, sender_uri):
        path = self._path(operation)
        envelope = self._envelope(action, message, total_count, sender_uri=sender_uri)
        status, body, raw, exchange, start = self._post(
            path, action, envelope, transaction_id=transaction_id
        )
        try:
            if exchange.resent and _is_duplicate(status, body):
                raise _duplicate_error(status)
            if body is None:
                raise SpecViolation(
                    f"The registry's acknowledgement is not JSON (HTTP {status}, {len(raw)} bytes)."
                )
            if status >= 300 and not (
                isinstance(body, dict) and isinstance(body.get("message"), dict)
            ):
                raise self._http_error(status, body, exchange.url)
            try:
                ack = parse_ack(body).message
            except DCIError as exc:
                if status >= 300:
                    raise self._http_error(status, body, exchange.url) from exc
                raise SpecViolation(
                    "The registry's acknowledgement does not follow the DCI 1.0.0 spec: "
                    f"{exc.message}"
                ) from exc
            exchange.correlation_id = ack.correlation_id
            if status in (401, 403):
                raise self._http_error(status, body, exchange.url)
            if ack.ack_status == AckStatus.ERR:
                raise self._ack_error(body)
        except DCIClientError as error:
            self._finish(exchange, start, error=error)
            raise
        self._finish(exchange, start)
        return ack

    def search(self, criteria_list, *, sender_uri, transaction_id=None, locale=None):
        """``POST /registry/search``; returns the ACK (``ack_status``, ``correlation_id``)."""
        transaction_id = transaction_id or new_id()
        message = self._search_request(transaction_id, criteria_list, locale)
        return self._async_call(
            "search",
            Action.SEARCH,
            message,
            len(message.search_request),
            transaction_id,
            sender_uri,
        )

    def subscribe(self, criteria_list, *, sender_uri, transaction_id=None, locale=None):
        """``POST /registry/subscribe`` (answered on ``/registry/on-subscribe``)."""
        transaction_id = transaction_id or new_id()
        items = []
        for criteria in criteria_list:
            item = {
                "reference_id": new_id(),
                "timestamp": utc_now(),
                "subscribe_criteria": criteria,
            }
            if locale:
                item["locale"] = locale
            items.append(item)
        try:
            message = SubscribeRequest.model_validate(
                {"transaction_id": transaction_id, "subscribe_request": items}
            )
        except Exception as exc:
            raise ConfigurationError(f"Invalid subscription criteria: {exc}") from exc
        return self._async_call(
            "subscribe",
            Action.SUBSCRIBE,
            message,
            len(message.subscribe_request),
            transaction_id,
            sender_uri,
        )

    def unsubscribe(self, subscription_codes, *, sender_uri, transaction_id=None):
        """``POST /registry/unsubscribe`` (answered on ``/registry/on-unsubscribe``)."""
        transaction_id = transaction_id or new_id()
        try:
            message = UnSubscribeRequest.model_validate(
                {
                    "transaction_id": transaction_id,
                    "timestamp": utc_now(),
                    "subscription_codes": list(subscription_codes),
                }
            )
        except Exception as exc:
            raise ConfigurationError(f"Invalid unsubscribe request: {exc}") from exc
        return self._async_call(
            "unsubscribe",
            Action.UNSUBSCRIBE,
            message,
            len(message.subscription_codes),
            transaction_id,
            sender_uri,
        )

    def _txn_status_message(self, transaction_id, txn_type, attribute_type, attribute_value):
        try:
            return TxnStatusRequest.model_validate(
                {
                    "transaction_id": transaction_id,
                    "txnstatus_request": {
                        "reference_id": new_id(),
                        "txn_type": txn_type,
                        "attribute_type": attribute_type,
                        "attribute_value": attribute_value,
                    },
                }
            )
        except Exception as exc:
            raise ConfigurationError(f"Invalid transaction status request: {exc}") from exc

    def sync_txn_status(
        self, txn_type, attribute_type, attribute_value, *, transaction_id=None
    ) -> SyncResult:
        """``POST /registry/sync/txn/status``."""
        transaction_id = transaction_id or new_id()
        message = self._txn_status_message(
            transaction_id, txn_type, attribute_type, attribute_value
        )
        return self._sync_call(
            ENDPOINT_OF["sync_txn_status"],
            self._path("sync_txn_status"),
            message,
            1,
            transaction_id,
        )

    def txn_status(
        self, txn_type, attribute_type, attribute_value, *, sender_uri, transaction_id=None
    ):
        """``POST /registry/txn/status`` (answered on ``/registry/txn/on-status``)."""
        transaction_id = transaction_id or new_id()
        message = self._txn_status_message(
            transaction_id, txn_type, attribute_type, attribute_value
        )
        return self._async_call(
            "txn_status", Action.TXN_STATUS, message, 1, transaction_id, sender_uri
        )


def records_of(item) -> list:
    """The records of one ``search_response`` item as a list (dr sends one object)."""
    data = getattr(item, "data", None)
    if data is None:
        return []
    records = data.reg_records
    if isinstance(records, dict):
        return [records]
    return list(records or [])


def next_page_number(item):
    """The page after ``item``, or None when it was the last one.

    Paging follows the answer's ``pagination`` (``page_number * page_size >=
    total_count`` ends it) and stops on an empty page.
    """
    pagination = item.pagination
    if not records_of(item) or pagination is None:
        return None
    if pagination.page_number * pagination.page_size >= pagination.total_count:
        return None
    return pagination.page_number + 1


def _is_duplicate(status, body) -> bool:
    """The answer refuses the request's ``message_id`` as already received (HTTP 409 or the code).

    The code may be in a sync ``rjct`` header, an ERR ACK (``error.code`` or, as
    ``Error.code`` only allows ``err.*``, ``error.message``) or an HttpErrorResponse.
    """
    if status == 409:
        return True
    if not isinstance(body, dict):
        return False
    places = []
    header = body.get("header")
    if isinstance(header, dict):
        places.append(header.get("status_reason_code"))
    message = body.get("message")
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        places += [message["error"].get("code"), message["error"].get("message")]
    errors = body.get("errors")
    if isinstance(errors, list):
        places += [e.get(key) for e in errors if isinstance(e, dict) for key in ("code", "message")]
    return any(isinstance(text, str) and DUPLICATE in text for text in places)


def _duplicate_error(status) -> DuplicateAfterTimeout:
    return DuplicateAfterTimeout(
        "The registry already has this request: an earlier attempt timed out after it was "
        f"sent, and the registry refused our re-send as a duplicate (HTTP {status}, "
        f"{DUPLICATE}) instead of repeating its answer. The request is not rejected; "
        "its answer was lost to the timeout.",
        http_status=status,
        code=DUPLICATE,
    )


def _json_or_none(raw: bytes):
    if not raw:
        return None
    try:
        return json_body.loads(raw)
    except json_body.JSONBodyError:
        return None


def _text_excerpt(raw: bytes, limit=2000) -> str | None:
    if not raw:
        return None
    text = raw[:limit].decode("utf-8", errors="replace")
    return text + ("..." if len(raw) > limit else "")


def _redact_token(body):
    if not isinstance(body, dict):
        return body
    return {
        key: ("<redacted>" if key in ("access_token", "refresh_token", "id_token") else value)
        for key, value in body.items()
    }


def _retry_after(value) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _http_date() -> str:
    return formatdate(usegmt=True)
