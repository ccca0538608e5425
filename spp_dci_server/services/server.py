"""The DCI server pipeline: authenticate, check, dispatch, answer - and sign.

One :class:`DCIServer` per HTTP request (or per queue job). The routers hand it
the path, the headers and the raw body; it returns a :class:`Reply` that
:meth:`DCIServer.render` turns into bytes plus an RFC 9421 response signature.

Order of the checks on a registry path (every step answers with a spec body):

1. bearer token (401 ``err.request.unauthorized``), scope and registry type
   (403 ``err.request.forbidden``), rate limit (429 + ``Retry-After``);
2. an implementation for the endpoint's registry type
   (``rjct.action.not_supported``);
3. content type (415), body size (413), JSON syntax (400);
4. envelope shape, ``header.sender_id`` = the token's client
   (``err.sender_id.invalid``), DCI signature (``err.signature.*``);
5. schema of header and message (``rjct.action.invalid`` when the action does
   not match the path, ``rjct.total_count.invalid`` ...), then version
   (``rjct.version.invalid``), ``message_ts`` within the clock skew
   (``rjct.message_ts.invalid``), ``receiver_id``, encryption, ``sender_uri``
   (async), duplicate ``message_id`` (``rjct.message_id.duplicate``);
6. each item of a batch on its own: a bad item is answered ``rjct`` with its
   reason code, the other items are processed (partial failure).

Error bodies: 401/403 are ``HttpErrorResponse``; other errors are an ERR ACK
on asynchronous paths and a signed ``status: rjct`` callback envelope on the
synchronous ones (their spec ``default`` response).
"""

import base64
import binascii
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

import psycopg2
from pydantic import BaseModel, Field, ValidationError, create_model

from odoo.addons.spp_dci.dci.codes import (
    AckStatus,
    Action,
    ErrorCode,
    MsgHeaderStatusReasonCode,
    RequestStatus,
    SearchStatusReasonCode,
    SubscribeStatusReasonCode,
    TxnAttributeType,
    TxnType,
    UnSubscribeStatusReasonCode,
)
from odoo.addons.spp_dci.dci.envelope import build_envelope, verify_envelope
from odoo.addons.spp_dci.dci.errors import DCIError, ack_body, error_ack_body, from_validation_error
from odoo.addons.spp_dci.dci.http_signature import sign_response
from odoo.addons.spp_dci.dci.jwks import JWKSError
from odoo.addons.spp_dci.dci.keys import PublicKey
from odoo.addons.spp_dci.dci.schemas.actions import (
    ENDPOINTS,
    parse_callback_envelope,
    parse_request_envelope,
)
from odoo.addons.spp_dci.dci.schemas.common import (
    DCI_VERSION,
    WIRE_CONTEXT,
    DCIModel,
    JsonObject,
    MsgCallbackHeader,
    SubscriptionCallbackHeader,
    TransactionId,
    format_timestamp,
    utc_now,
)
from odoo.addons.spp_dci.dci.schemas.search import SearchRequestItem, SearchResponse
from odoo.addons.spp_dci.dci.schemas.subscribe import (
    SubscribeRequestItem,
    SubscribeResponse,
    UnSubscribeResponse,
)
from odoo.addons.spp_dci.dci.schemas.txn import TxnStatusResponse
from odoo.addons.spp_dci.dci.signature import (
    SignatureError,
)
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .callbacks import check_callback_url
from .config import EndpointConfig
from .ratelimit import limiter
from .tokens import issue_token, verify_token

_logger = logging.getLogger(__name__)

SYNC = "sync"
ASYNC = "async"

#: Registry paths: scope and mode.
REGISTRY_PATHS = {
    "/registry/sync/search": ("registry.search", SYNC),
    "/registry/search": ("registry.search", ASYNC),
    "/registry/subscribe": ("registry.subscribe", ASYNC),
    "/registry/unsubscribe": ("registry.subscribe", ASYNC),
    "/registry/txn/status": ("registry.status", ASYNC),
    "/registry/sync/txn/status": ("registry.status", SYNC),
}
#: Caller-side receivers (we are the SP-MIS): scope.
RECEIVER_PATHS = {
    "/registry/on-search": "registry.on-search",
    "/registry/on-subscribe": "registry.on-subscribe",
    "/registry/on-unsubscribe": "registry.on-subscribe",
    "/registry/notify": "registry.notify",
    "/registry/txn/on-status": "registry.on-status",
}
#: The callback action that answers each request action.
REPLY_ACTIONS = {
    Action.SEARCH: Action.ON_SEARCH,
    Action.SUBSCRIBE: Action.ON_SUBSCRIBE,
    Action.UNSUBSCRIBE: Action.ON_UNSUBSCRIBE,
    Action.TXN_STATUS: Action.TXN_ON_STATUS,
}
#: txn_type values whose txn_status each registry spec can represent. The social
#: and ibr ``txn_status`` is oneOf a search response or a receipt: a subscribe
#: result fits neither, so only search is answered there.
TXN_TYPES = {
    "social": {TxnType.SEARCH},
    "ibr": {TxnType.SEARCH},
    "crvs": {TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE},
    "fr": {TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE},
    "dr": set(),
}
MAX_SIGNATURE_VALIDITY = 86400
TOKEN_KEY_CACHE_SECONDS = 10
JSON_TYPES = ("application/json",)
FORM_TYPE = "application/x-www-form-urlencoded"

_token_keys_cache = {}


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


# --- lenient batch messages: the items are checked one by one ------------------------


class _LenientSearchRequest(DCIModel):
    transaction_id: TransactionId
    search_request: list[JsonObject] = Field(min_length=1)


class _LenientSubscribeRequest(DCIModel):
    transaction_id: TransactionId
    subscribe_request: list[JsonObject] = Field(min_length=1)


LENIENT_MESSAGES = {
    Action.SEARCH: _LenientSearchRequest,
    Action.SUBSCRIBE: _LenientSubscribeRequest,
}
_PROBES = {
    model: create_model(f"{model.__name__}Probe", __base__=BaseModel, message=(model, ...))
    for model in (SearchRequestItem, SubscribeRequestItem)
}


def validate_item(model, raw):
    """Validate one batch item; errors map to the item's reason code."""
    try:
        return _PROBES[model].model_validate({"message": raw}, context=WIRE_CONTEXT).message
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _now():
    return utc_now()


def _ts(value=None):
    return format_timestamp(value or _now())


def _reason(err, allowed, fallback):
    """The item status_reason_code of ``err`` within the ``allowed`` enum."""
    try:
        return allowed(str(err.code))
    except ValueError:
        return fallback


def _json_dumps(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class DCIServer:
    """Handle one request of one DCI endpoint (see the module docstring)."""

    def __init__(self, env, config: EndpointConfig):
        self.env = env
        self.config = config
        self._signer = None
        self._our_id = None

    # --- identity and keys ---------------------------------------------------------

    @property
    def signer(self):
        if self._signer is None:
            self._signer = self.env["spp.dci.signing.key"].sudo()._dci_signer()
        return self._signer

    @property
    def our_id(self):
        if self._our_id is None:
            self._our_id = (
                self.config.sender_id or self.env["spp.dci.signing.key"].sudo()._dci_sender_id()
            )
        return self._our_id

    def _token_keys(self):
        """Our published public keys, ``{kid: PublicKey}`` (cached a few seconds)."""
        cache_key = self.env.cr.dbname
        cached = _token_keys_cache.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        jwks = self.env["spp.dci.signing.key"].sudo()._dci_jwks()
        keys = {jwk["kid"]: PublicKey.from_jwk(jwk) for jwk in jwks.get("keys", [])}
        _token_keys_cache[cache_key] = (time.monotonic() + TOKEN_KEY_CACHE_SECONDS, keys)
        return keys

    def implementation(self):
        return self.env["spp.dci.registry"]._dci_implementation(self.config.registry_type)

    # --- rendering -----------------------------------------------------------------

    def render(self, reply: Reply):
        """Serialise ``reply`` and sign it (RFC 9421 ``Signature`` + ``Content-Digest``)."""
        body = _json_dumps(reply.body)
        headers = {"Content-Type": "application/json", **reply.headers}
        try:
            headers.update(sign_response(reply.status, headers, body, self.signer))
        except Exception:  # signing must never turn an answer into a 500
            _logger.exception("DCI: could not sign the HTTP response")
        return body, headers

    def sign_envelope(self, header, message):
        return build_envelope(header, message, self.signer, self.our_id)

    def rejection_envelope(self, reply_action, err, receiver_id=None):
        """A signed callback envelope with ``header.status: rjct`` and no message."""
        code = err.code if isinstance(err.code, MsgHeaderStatusReasonCode) else None
        text = err.message if code else f"{err.code}: {err.message}"
        header = MsgCallbackHeader(
            message_id=str(uuid.uuid4()),
            message_ts=_now(),
            action=reply_action,
            status=RequestStatus.RJCT,
            status_reason_code=code,
            status_reason_message=text[:999],
            sender_id=self.our_id,
            receiver_id=receiver_id,
            total_count=0,
            completed_count=0,
        )
        return build_envelope(header, None, self.signer, self.our_id)

    def error_reply(self, path, err: DCIError, sender=None):
        headers = dict(err.http_headers)
        status = err.http_status
        if status in (401, 403) or path not in ENDPOINTS:
            if status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="dci", error="invalid_token"'
            return Reply(status, err.http_body(), headers)
        endpoint = ENDPOINTS[path]
        if endpoint.is_sync and endpoint.reply_action:
            receiver = sender.client_id if sender else None
            return Reply(
                status, self.rejection_envelope(endpoint.reply_action, err, receiver), headers
            )
        return Reply(status, error_ack_body(err, str(uuid.uuid4())), headers)

    # --- entry points --------------------------------------------------------------

    def jwks(self):
        jwks = self.env["spp.dci.signing.key"].sudo()._dci_jwks()
        return Reply(200, jwks, {"Cache-Control": "public, max-age=300"})

    def token(self, headers, body):
        """``POST /oauth2/client/token``: OAuth2 client credentials (RFC 6749 4.4)."""
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
            if content_type != FORM_TYPE:
                raise DCIError(ErrorCode.REQUEST_BAD, f"the token request must be {FORM_TYPE}", 415)
            if body is None:
                raise DCIError(ErrorCode.REQUEST_BAD, "the token request is too large", 413)
            try:
                form = parse_qs(
                    body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)
                )
            except (UnicodeDecodeError, ValueError):
                raise DCIError(
                    ErrorCode.REQUEST_BAD, "the token request is not a valid form"
                ) from None
            values = {}
            for name, items in form.items():
                if len(items) != 1:
                    raise DCIError(ErrorCode.REQUEST_BAD, f"parameter {name!r} is repeated")
                values[name] = items[0]
            client_id, secret = values.get("client_id"), values.get("client_secret")
            basic = self._basic_credentials(headers.get("authorization"))
            if basic:
                if client_id and client_id != basic[0]:
                    raise DCIError(
                        ErrorCode.REQUEST_BAD, "client_id differs from the Basic credentials"
                    )
                client_id, secret = basic
            if values.get("grant_type") != "client_credentials":
                raise DCIError(ErrorCode.REQUEST_BAD, "grant_type must be client_credentials")
            if not client_id or not secret:
                raise DCIError(ErrorCode.REQUEST_BAD, "client_id and client_secret are required")
            sender = self._find_sender(client_id)
            if not sender or not sender._dci_check_secret(secret):
                raise DCIError(ErrorCode.REQUEST_UNAUTHORIZED, "invalid client credentials", 401)
            self._check_rate(sender)
            if self.config.registry_type not in sender._dci_registry_types():
                raise DCIError(
                    ErrorCode.REQUEST_FORBIDDEN, "this client may not use this registry", 403
                )
            allowed = sender._dci_scopes()
            requested = values.get("scope", "").split()
            if requested:
                refused = sorted(set(requested) - set(allowed))
                if refused:
                    raise DCIError(
                        ErrorCode.REQUEST_FORBIDDEN, f"scope not allowed: {' '.join(refused)}", 403
                    )
                scopes = list(dict.fromkeys(requested))
            else:
                scopes = allowed
            ttl = self.config.token_ttl
            token, _claims = issue_token(
                self.signer,
                issuer=self.our_id,
                audience=self.config.root_path,
                client_id=sender.client_id,
                scopes=scopes,
                ttl=ttl,
            )
            _logger.info("DCI: token issued to %s (scopes %s)", sender.client_id, " ".join(scopes))
            body = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": str(ttl),
                "scope": " ".join(scopes),
            }
            return Reply(200, body, no_store)
        except DCIError as err:
            headers_out = {**no_store, **err.http_headers}
            if err.http_status == 401:
                headers_out["WWW-Authenticate"] = 'Basic realm="dci"'
            return Reply(err.http_status, err.http_body(), headers_out)

    @staticmethod
    def _basic_credentials(authorization):
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise DCIError(ErrorCode.REQUEST_BAD, "malformed Basic credentials") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise DCIError(ErrorCode.REQUEST_BAD, "malformed Basic credentials")
        return unquote(client_id), unquote(secret)

    def handle(self, path, headers, body):
        """A POST to one of the registry or receiver paths."""
        sender = None
        try:
            scope = REGISTRY_PATHS[path][0] if path in REGISTRY_PATHS else RECEIVER_PATHS[path]
            sender = self.authenticate(headers.get("authorization"), scope)
            self._check_rate(sender)
            if path in REGISTRY_PATHS and self.implementation() is None:
                raise DCIError(
                    MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
                    f"no implementation of the {self.config.registry_type!r} registry "
                    "is installed here",
                )
            data = self.read_json(headers, body)
            if path in REGISTRY_PATHS:
                return self.registry_request(path, sender, data)
            return self.receive_callback(path, sender, data)
        except DCIError as err:
            if sender:
                _logger.info("DCI: %s from %s rejected: %s", path, sender.client_id, err)
            return self.error_reply(path, err, sender)

    # --- authentication --------------------------------------------------------------

    def _find_sender(self, client_id):
        return self.env["spp.dci.sender"].search(
            [("client_id", "=", client_id), ("active", "=", True)], limit=1
        )

    def authenticate(self, authorization, scope):
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise DCIError(ErrorCode.REQUEST_UNAUTHORIZED, "a bearer access token is required", 401)
        claims = verify_token(
            authorization[7:].strip(),
            self._token_keys(),
            issuer=self.our_id,
            audience=self.config.root_path,
        )
        sender = self._find_sender(claims["sub"])
        if not sender:
            raise DCIError(
                ErrorCode.REQUEST_UNAUTHORIZED, "the token's client is not an active sender", 401
            )
        if scope not in claims["scope"].split() or scope not in sender._dci_scopes():
            raise DCIError(
                ErrorCode.REQUEST_FORBIDDEN, f"the access token lacks the scope {scope}", 403
            )
        if self.config.registry_type not in sender._dci_registry_types():
            raise DCIError(
                ErrorCode.REQUEST_FORBIDDEN, "this client may not use this registry", 403
            )
        return sender

    def _check_rate(self, sender):
        retry_after = limiter.hit((self.env.cr.dbname, sender.client_id), sender.rate_limit)
        if retry_after:
            raise DCIError(
                ErrorCode.REQUEST_TOO_MANY_REQUESTS,
                f"more than {sender.rate_limit} requests per minute",
                429,
                retry_after=retry_after,
            )

    # --- body --------------------------------------------------------------------------

    def read_json(self, headers, body):
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise DCIError(ErrorCode.REQUEST_BAD, "the request body must be application/json", 415)
        if body is None:
            raise DCIError(
                ErrorCode.REQUEST_BAD,
                f"the request body is larger than {self.config.max_body_bytes} bytes",
                413,
            )
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise DCIError(
                ErrorCode.REQUEST_BAD, f"the request body is not valid JSON: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise DCIError(ErrorCode.REQUEST_BAD, "the request body must be a JSON object")
        return data

    # --- envelope checks ---------------------------------------------------------------

    def check_envelope(self, sender, data, message_required=True):
        """Shape, sender identity and DCI signature; returns the signature state and kid."""
        header = data.get("header")
        if not isinstance(header, dict):
            raise DCIError(ErrorCode.REQUEST_BAD, "header: Input should be an object")
        message = data.get("message")
        if (message_required or "message" in data) and not isinstance(message, dict):
            raise DCIError(ErrorCode.REQUEST_BAD, "message: Input should be an object")
        if header.get("sender_id") != sender.client_id:
            raise DCIError(
                ErrorCode.SENDER_ID_INVALID, "header.sender_id is not the authenticated client"
            )
        if header.get("is_msg_encrypted") is True:
            raise DCIError(
                ErrorCode.ENCRYPTION_INVALID, "encrypted messages are not supported by this server"
            )

        def resolve(sender_id, key_id):
            return sender._dci_public_key(key_id) if sender_id == sender.client_id else None

        required = sender.signature_policy != "off"
        try:
            verified = verify_envelope(
                data,
                resolve,
                require_signature=required,
                expected_sender_id=sender.client_id,
                max_validity=MAX_SIGNATURE_VALIDITY,
            )
        except SignatureError as exc:
            raise DCIError(exc.code, f"signature rejected ({exc.reason}): {exc}") from None
        except JWKSError as exc:
            raise DCIError(
                ErrorCode.SERVICE_UNAVAILABLE, f"cannot read the sender's JWKS: {exc}", 503
            ) from None
        if verified is None:
            _logger.warning(
                "DCI: unsigned message accepted from %s (signature policy off)", sender.client_id
            )
            return "unsigned", False
        return "verified", verified.key_id

    def check_header(self, header):
        if header.version != DCI_VERSION:
            raise DCIError(
                MsgHeaderStatusReasonCode.VERSION_INVALID, f"version must be {DCI_VERSION}"
            )
        skew = abs((_now() - header.message_ts).total_seconds())
        if skew > self.config.clock_skew:
            raise DCIError(
                MsgHeaderStatusReasonCode.MESSAGE_TS_INVALID,
                f"message_ts is {int(skew)} s away from our clock "
                f"(at most {self.config.clock_skew} s allowed)",
            )
        if header.receiver_id and header.receiver_id != self.our_id:
            raise DCIError(ErrorCode.RECEIVER_ID_INVALID, f"receiver_id must be {self.our_id!r}")

    # --- registry requests ----------------------------------------------------------------

    def registry_request(self, path, sender, data):
        endpoint = ENDPOINTS[path]
        mode = REGISTRY_PATHS[path][1]
        try:
            signature_state, kid = self.check_envelope(sender, data)
            envelope = parse_request_envelope(
                data, endpoint.action, LENIENT_MESSAGES.get(endpoint.action)
            )
            header = envelope.header
            self.check_header(header)
            if header.total_count > self.config.max_items:
                raise DCIError(
                    MsgHeaderStatusReasonCode.TOTAL_COUNT_LIMIT_EXCEEDED,
                    f"at most {self.config.max_items} items per message",
                )
            sender_uri = None
            if mode == ASYNC:
                sender_uri = check_callback_url(
                    header.sender_uri, sender.callback_hosts, sender._dci_allows_private_callbacks()
                )
            self.check_duplicate(sender, header.message_id)
        except DCIError as err:
            self.record_rejection(sender, endpoint.action, mode, data, err)
            raise
        txn = self.create_transaction(
            sender, endpoint.action, mode, data, envelope, signature_state, kid, sender_uri
        )
        if mode == SYNC:
            reply = self.process(txn, envelope.message)
            txn.sudo().write(
                {"state": "done", "done_at": datetime.now(), "response_payload": reply}
            )
            return Reply(200, reply)
        txn.with_delay(
            channel="root.dci", description=f"DCI: {endpoint.action} {txn.correlation_id}"
        )._dci_process()
        return Reply(200, ack_body(AckStatus.ACK, txn.correlation_id))

    def check_duplicate(self, sender, message_id):
        seen = self.env["spp.dci.transaction"].search_count(
            [
                ("sender_id", "=", sender.id),
                ("message_id", "=", message_id),
                ("state", "!=", "rejected"),
            ],
            limit=1,
        )
        if seen:
            raise DCIError(
                MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
                f"message_id {message_id!r} was already received",
            )

    def _transaction_values(self, sender, action, mode, data):
        header = data.get("header") if isinstance(data.get("header"), dict) else {}
        message = data.get("message") if isinstance(data.get("message"), dict) else {}
        message_id = header.get("message_id")
        transaction_id = message.get("transaction_id")
        return {
            "endpoint_id": self.config.endpoint_id,
            "registry_type": self.config.registry_type,
            "sender_id": sender.id,
            "action": str(action),
            "mode": mode,
            "message_id": message_id if isinstance(message_id, str) else False,
            "transaction_id": transaction_id if isinstance(transaction_id, str) else False,
            "correlation_id": str(uuid.uuid4()),
            "request_payload": data,
        }

    def record_rejection(self, sender, action, mode, data, err):
        values = self._transaction_values(sender, action, mode, data)
        values.update(
            state="rejected", status_reason_code=str(err.code), status_reason_message=err.message
        )
        self.env["spp.dci.transaction"].sudo().create(values)

    def create_transaction(
        self, sender, action, mode, data, envelope, signature_state, kid, sender_uri
    ):
        header = envelope.header
        message = envelope.message
        items = (
            getattr(message, "search_request", None)
            or getattr(message, "subscribe_request", None)
            or []
        )
        references = [i.get("reference_id") for i in items if isinstance(i, dict)]
        if isinstance(getattr(message, "txnstatus_request", None), BaseModel):
            references = [message.txnstatus_request.reference_id]
        values = self._transaction_values(sender, action, mode, data)
        values.update(
            message_id=header.message_id,
            message_ts=header.message_ts.astimezone(UTC).replace(tzinfo=None),
            transaction_id=message.transaction_id,
            reference_ids=[r for r in references if isinstance(r, str)],
            item_count=len(items) or 1,
            sender_uri=sender_uri or False,
            signature_state=signature_state,
            signature_kid=kid or False,
        )
        try:
            with self.env.cr.savepoint():
                txn = self.env["spp.dci.transaction"].sudo().create(values)
        except psycopg2.IntegrityError:
            raise DCIError(
                MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
                f"message_id {header.message_id!r} was already received",
            ) from None
        return txn.sudo(False)

    # --- processing (sync now, async in a job) --------------------------------------------

    def process(self, txn, message):
        """Process a parsed request message; return the signed callback envelope."""
        action = Action(txn.action)
        sender = txn.sender_id
        reply_action = REPLY_ACTIONS[action]
        if action == Action.SEARCH:
            reply, total, completed = self.search(txn, message)
            header_status = RequestStatus.SUCC
        elif action == Action.SUBSCRIBE:
            reply, total, completed = self.subscribe(txn, message)
            header_status = RequestStatus.SUCC
        elif action == Action.UNSUBSCRIBE:
            reply, total, completed = self.unsubscribe(txn, message)
            header_status = RequestStatus.SUCC
        else:
            try:
                reply = self.txn_status(txn, message)
            except DCIError as err:
                return self.rejection_envelope(reply_action, err, sender.client_id)
            total = completed = 1
            header_status = RequestStatus.SUCC
        header_class = (
            SubscriptionCallbackHeader
            if action in (Action.SUBSCRIBE, Action.UNSUBSCRIBE)
            else MsgCallbackHeader
        )
        header = header_class(
            message_id=str(uuid.uuid4()),
            message_ts=_now(),
            action=reply_action,
            status=header_status,
            total_count=total,
            completed_count=completed,
            sender_id=self.our_id,
            receiver_id=sender.client_id,
        )
        return self.sign_envelope(header, reply)

    def search(self, txn, message):
        impl = self.implementation()
        items = []
        seen = set()
        for index, raw in enumerate(message.search_request):
            items.append(self.search_item(impl, index, raw, seen))
        reply = SearchResponse(
            transaction_id=message.transaction_id,
            correlation_id=txn.correlation_id,
            search_response=items,
        )
        return reply, len(items), len(items)

    def search_item(self, impl, index, raw, seen):
        reference = raw.get("reference_id")
        reference = reference if isinstance(reference, str) and reference else f"item-{index + 1}"
        try:
            item = validate_item(SearchRequestItem, raw)
            if item.reference_id in seen:
                raise DCIError(
                    SearchStatusReasonCode.REFERENCE_ID_DUPLICATE,
                    "reference_id is repeated in the batch",
                )
            seen.add(item.reference_id)
            data, pagination = impl._dci_search(item.search_criteria, self.config.max_page_size)
        except DCIError as err:
            return {
                "reference_id": reference,
                "timestamp": _ts(),
                "status": RequestStatus.RJCT.value,
                "status_reason_code": _reason(
                    err, SearchStatusReasonCode, SearchStatusReasonCode.SEARCH_CRITERIA_INVALID
                ).value,
                "status_reason_message": err.message,
            }
        result = {
            "reference_id": item.reference_id,
            "timestamp": _ts(),
            "status": RequestStatus.SUCC.value,
            "data": data,
            "pagination": pagination,
        }
        if item.locale:
            result["locale"] = item.locale
        return result

    def subscribe(self, txn, message):
        impl = self.implementation()
        items = []
        seen = set()
        Subscription = self.env["spp.dci.subscription"]
        for index, raw in enumerate(message.subscribe_request):
            reference = raw.get("reference_id")
            reference = (
                reference if isinstance(reference, str) and reference else f"item-{index + 1}"
            )
            try:
                item = validate_item(SubscribeRequestItem, raw)
                if item.reference_id in seen:
                    raise DCIError(
                        SubscribeStatusReasonCode.REFERENCE_ID_DUPLICATE, "reference_id is repeated"
                    )
                seen.add(item.reference_id)
                subscription = Subscription._dci_create_from_request(txn, item, impl)
            except DCIError as err:
                items.append(
                    {
                        "reference_id": reference,
                        "timestamp": _ts(),
                        "status": RequestStatus.RJCT.value,
                        "status_reason_code": _reason(
                            err,
                            SubscribeStatusReasonCode,
                            SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                        ).value,
                        "status_reason_message": err.message,
                    }
                )
                continue
            entry = {
                "reference_id": item.reference_id,
                "timestamp": _ts(),
                "status": RequestStatus.SUCC.value,
                "subscriptions": [subscription._dci_info()],
            }
            if item.locale:
                entry["locale"] = item.locale
            items.append(entry)
        reply = SubscribeResponse(
            transaction_id=message.transaction_id,
            correlation_id=txn.correlation_id,
            subscribe_response=items,
        )
        return reply, len(items), len(items)

    def unsubscribe(self, txn, message):
        status = RequestStatus.SUCC
        code = text = None
        statuses = None
        try:
            subscriptions = self.env["spp.dci.subscription"]._dci_unsubscribe(
                txn.sender_id, message.subscription_codes
            )
            statuses = [{"code": s.code, "status": "unsubscribe"} for s in subscriptions]
        except DCIError as err:
            status = RequestStatus.RJCT
            code = _reason(
                err,
                UnSubscribeStatusReasonCode,
                UnSubscribeStatusReasonCode.SUBSCRIPTION_CODE_INVALID,
            )
            text = err.message
        reply = UnSubscribeResponse(
            transaction_id=message.transaction_id,
            correlation_id=txn.correlation_id,
            timestamp=_now(),
            status=status,
            status_reason_code=code,
            status_reason_message=text,
            subscription_status=statuses,
        )
        return reply, len(message.subscription_codes), len(message.subscription_codes)

    def txn_status(self, txn, message):
        query = message.txnstatus_request
        txn_type = query.txn_type
        if txn_type not in TXN_TYPES.get(self.config.registry_type, set()):
            raise DCIError(
                MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
                f"txn_type {txn_type.value!r} has no txn_status form "
                f"in the {self.config.registry_type} spec",
            )
        found = self.env["spp.dci.transaction"]._dci_find_for_status(
            txn.sender_id, txn_type, query.attribute_type, query.attribute_value
        )
        if found:
            status = found._dci_txn_status_reply()
            if query.attribute_type == TxnAttributeType.REFERENCE_ID_LIST:
                status = _only_references(status, set(query.attribute_value))
        else:
            status = _unknown_txn_status(txn_type, query)
        return TxnStatusResponse.model_validate(
            {
                "transaction_id": message.transaction_id,
                "correlation_id": txn.correlation_id,
                "txnstatus_response": {"txn_type": txn_type.value, "txn_status": status},
            }
        )

    # --- callbacks received (we are the SP-MIS) ---------------------------------------------

    def receive_callback(self, path, sender, data):
        endpoint = ENDPOINTS[path]
        signature_state, kid = self.check_envelope(sender, data, message_required=False)
        envelope = parse_callback_envelope(data, endpoint.action)
        header = envelope.header
        self.check_header(header)
        inbox = self.env["spp.dci.inbox"]._dci_receive(
            self.config, sender, endpoint.action, data, envelope, signature_state, kid
        )
        correlation = getattr(envelope.message, "correlation_id", None) or str(uuid.uuid4())
        inbox.with_delay(
            channel="root.dci", description=f"DCI: dispatch {endpoint.action}"
        )._dci_dispatch()
        return Reply(200, ack_body(AckStatus.ACK, correlation))


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _only_references(status, references):
    status = dict(status)
    for key in ("search_response", "subscribe_response"):
        if key in status:
            kept = [item for item in status[key] if item.get("reference_id") in references]
            status[key] = kept or [
                {
                    "reference_id": sorted(references)[0],
                    "timestamp": _ts(),
                    "status": RequestStatus.RJCT.value,
                    "status_reason_code": SearchStatusReasonCode.REFERENCE_ID_INVALID.value,
                    "status_reason_message": "no such reference_id in this transaction",
                }
            ]
    return status


def _unknown_txn_status(txn_type, query):
    item = {
        "reference_id": query.reference_id,
        "timestamp": _ts(),
        "status": RequestStatus.RJCT.value,
        "status_reason_code": SearchStatusReasonCode.REFERENCE_ID_INVALID.value,
        "status_reason_message": "no transaction of yours matches this query",
    }
    correlation = (
        query.attribute_value
        if query.attribute_type == TxnAttributeType.CORRELATION_ID
        else "unknown"
    )
    transaction = (
        query.attribute_value
        if query.attribute_type == TxnAttributeType.TRANSACTION_ID
        else "unknown"
    )
    if txn_type == TxnType.SEARCH:
        return {
            "transaction_id": transaction,
            "correlation_id": correlation,
            "search_response": [item],
        }
    if txn_type == TxnType.SUBSCRIBE:
        return {
            "transaction_id": transaction,
            "correlation_id": correlation,
            "subscribe_response": [item],
        }
    return {
        "transaction_id": transaction,
        "correlation_id": correlation,
        "timestamp": _ts(),
        "status": RequestStatus.RJCT.value,
        "status_reason_code": UnSubscribeStatusReasonCode.REFERENCE_ID_INVALID.value,
        "status_reason_message": item["status_reason_message"],
    }


# --- entry points used by models (jobs) ------------------------------------------------------


def server_for(endpoint):
    """A DCIServer for ``endpoint`` (a fastapi.endpoint record), in its env."""
    return DCIServer(endpoint.env, endpoint._dci_config())


def process_async_transaction(txn):
    """Job body of spp.dci.transaction._dci_process: answer through the callback."""
    server = server_for(txn.endpoint_id)
    data = txn.sudo().request_payload
    endpoint = ENDPOINTS[_async_path(txn.action)]
    values = {"state": "done"}
    try:
        with txn.env.cr.savepoint():
            envelope = parse_request_envelope(
                data, endpoint.action, LENIENT_MESSAGES.get(endpoint.action)
            )
            reply = server.process(txn, envelope.message)
    except DCIError as err:
        reply = server.rejection_envelope(
            REPLY_ACTIONS[endpoint.action], err, txn.sender_id.client_id
        )
        values.update(status_reason_code=str(err.code), status_reason_message=err.message)
    except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
        raise  # queue_job retries the job
    except Exception as exc:  # the caller still gets an answer; the traceback stays here
        _logger.exception("DCI: processing transaction %s failed", txn.correlation_id)
        err = DCIError(ErrorCode.SERVICE_UNAVAILABLE, "internal error; it has been logged", 503)
        reply = server.rejection_envelope(
            REPLY_ACTIONS[endpoint.action], err, txn.sender_id.client_id
        )
        values.update(
            state="failed",
            status_reason_code=str(err.code),
            status_reason_message=f"{exc.__class__.__name__}: {exc}"[:500],
        )
    values.update(done_at=datetime.now(), response_payload=reply)
    txn.sudo().write(values)
    txn._dci_queue_delivery(txn.sender_uri, reply)
    return f"{txn.action} processed, callback queued"


def _async_path(action):
    return {
        "search": "/registry/search",
        "subscribe": "/registry/subscribe",
        "unsubscribe": "/registry/unsubscribe",
        "txn-status": "/registry/txn/status",
    }[action]


def txn_status_of(txn):
    """``txn_status`` of a transaction: its stored answer, or ``pdng`` items."""
    response = txn.sudo().response_payload or {}
    message = response.get("message") if isinstance(response, dict) else None
    if txn.state == "done" and isinstance(message, dict):
        return message
    status = RequestStatus.PDNG if txn.state == "received" else RequestStatus.RJCT
    reason_text = txn.status_reason_message or (
        "being processed" if status == RequestStatus.PDNG else "rejected"
    )
    items = []
    for reference in txn.reference_ids or ["unknown"]:
        item = {"reference_id": reference, "timestamp": _ts(), "status": status.value}
        if status == RequestStatus.RJCT:
            item["status_reason_message"] = reason_text[:999]
        items.append(item)
    base = {"transaction_id": txn.transaction_id or "unknown", "correlation_id": txn.correlation_id}
    if txn.action == "unsubscribe":
        return {**base, "timestamp": _ts(), "status": status.value}
    key = "search_response" if txn.action == "search" else "subscribe_response"
    return {**base, key: items}
