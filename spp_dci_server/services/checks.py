"""Reading and checking a DCI request: body, envelope, signature, header.

Order of the checks on a registry path (every step answers with a spec body;
the FastAPI dependencies in ``routers/dependencies.py`` run them in turn):

1. bearer token (401 ``err.request.unauthorized``), scope and registry type
   (403 ``err.request.forbidden``), rate limit (429 + ``Retry-After``);
2. an implementation for the endpoint's registry type
   (``rjct.action.not_supported``);
3. content type (415), body size (413), JSON syntax (400); on the search
   paths a ``multipart/form-data`` file search too (its parts, file_search.py);
   then the RFC 9421 HTTP signature when present or required
   (``http_signatures.py``, 401);
4. envelope shape, ``header.sender_id`` = the token's client
   (``err.sender_id.invalid``), DCI signature (``err.signature.*``); a file
   search: ``message.file_info`` (its digest binds the file), then the file's
   format, encoding and rows, which become the search items (file_search.py);
5. schema of header and message (``rjct.action.invalid`` when the action does
   not match the path, ``rjct.total_count.invalid`` ...), then version
   (``rjct.version.invalid``), ``message_ts`` within the clock skew
   (``rjct.message_ts.invalid``), ``receiver_id``, encryption, ``sender_uri``
   (async; on subscribe it must also give a notify URL when the sender has
   none configured, ``err.sender_uri.invalid``); a reused ``message_id`` is
   found by the unique index when the transaction row is written: an
   identical re-send (same path, same :func:`request_digest`) is answered as
   the first request was, any other is ``rjct.message_id.duplicate``;
6. each item of a batch on its own (handlers.py): a bad item is answered
   ``rjct`` with its reason code, the other items are processed.
"""

import base64
import contextlib
import hashlib
import logging
from dataclasses import dataclass

from odoo.addons.spp_dci.dci import json_body
from odoo.addons.spp_dci.dci.canonical import (
    DIGEST_PREFIX,
    CanonicalizationError,
    canonical_json,
)
from odoo.addons.spp_dci.dci.codes import ErrorCode, MsgHeaderStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.jwks import JWKSError
from odoo.addons.spp_dci.dci.peer_keys import PeerKeys
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS, parse_request_envelope
from odoo.addons.spp_dci.dci.schemas.common import DCI_VERSION, utc_now
from odoo.addons.spp_dci.dci.signature import SignatureError, signing_payload

from . import file_search
from .callbacks import check_callback_url
from .handlers import LENIENT_MESSAGES
from .paths import ASYNC, CALLBACK_PATHS, REGISTRY_PATHS, default_callback_url, notify_url

_logger = logging.getLogger(__name__)

MAX_SIGNATURE_VALIDITY = 86400
JSON_TYPES = ("application/json",)
SUBSCRIBE = "/registry/subscribe"


@dataclass
class CheckedRequest:
    """A registry request that passed every message-level check."""

    path: str
    action: str
    mode: str
    sender: object  # SenderInfo
    data: dict
    envelope: object
    signature_state: str
    kid: str | None
    sender_uri: str | None
    digest: str

    @property
    def header(self):
        return self.envelope.header

    @property
    def message(self):
        return self.envelope.message


def ensure_implementation(ctx):
    if ctx.implementation_name() is None:
        raise DCIError(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            f"no implementation of the {ctx.config.registry_type!r} registry is installed here",
        )


def read_json(ctx, headers, body):
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise DCIError(ErrorCode.REQUEST_BAD, "the request body must be application/json", 415)
    if body is None:
        raise DCIError(
            ErrorCode.REQUEST_BAD,
            f"the request body is larger than {ctx.config.max_body_bytes} bytes",
            413,
        )
    try:
        data = json_body.loads(body)
    except json_body.JSONBodyError as exc:
        raise DCIError(ErrorCode.REQUEST_BAD, f"the request body {exc}") from None
    if not isinstance(data, dict):
        raise DCIError(ErrorCode.REQUEST_BAD, "the request body must be a JSON object")
    return data


@contextlib.contextmanager
def signature_refusals(what):
    """A signature check's failures as DCI answers: its reason code (401), or 503 when the
    sender's JWKS cannot be read (try later). ``what``: the signature, in the message."""
    try:
        yield
    except SignatureError as exc:
        raise DCIError(exc.code, f"{what} rejected ({exc.reason}): {exc}") from None
    except JWKSError as exc:
        raise DCIError(
            ErrorCode.SERVICE_UNAVAILABLE, f"cannot read the sender's JWKS: {exc}", 503
        ) from None


def check_envelope(sender, data, callback=False):
    """Shape, sender identity and DCI signature.

    ``callback``: a callback header (``MsgCallbackHeader``) may leave out
    ``message`` and ``sender_id``; the peer is then the one its token names.
    Returns the signature state, the kid and the verified body digest
    (``SHA-256=<base64>``, None when unsigned), so the message is canonicalised once.
    """
    header = data.get("header")
    if not isinstance(header, dict):
        raise DCIError(ErrorCode.REQUEST_BAD, "header: Input should be an object")
    message = data.get("message")
    if (not callback or "message" in data) and not isinstance(message, dict):
        raise DCIError(ErrorCode.REQUEST_BAD, "message: Input should be an object")
    if (not callback or "sender_id" in header) and header.get("sender_id") != sender.client_id:
        raise DCIError(
            ErrorCode.SENDER_ID_INVALID, "header.sender_id is not the authenticated client"
        )
    if header.get("is_msg_encrypted") is True:
        raise DCIError(
            ErrorCode.ENCRYPTION_INVALID, "encrypted messages are not supported by this server"
        )

    peer = sender.peer or PeerKeys(sender.client_id)
    with signature_refusals("signature"):
        verified = peer.verify(
            data,
            require_signature=sender.signature_policy != "off",
            callback=callback,
            expected_sender_id=sender.client_id,
            max_validity=MAX_SIGNATURE_VALIDITY,
        )
    if verified is None:
        _logger.warning(
            "DCI: unsigned message accepted from %s (signature policy off)", sender.client_id
        )
        return "unsigned", None, None
    return "verified", verified.key_id, verified.digest


def check_header(ctx, header, receiver_ids=None):
    """Version, message_ts and receiver_id (one of ``receiver_ids``, default: our id)."""
    if header.version != DCI_VERSION:
        raise DCIError(MsgHeaderStatusReasonCode.VERSION_INVALID, f"version must be {DCI_VERSION}")
    skew = abs((utc_now() - header.message_ts).total_seconds())
    if skew > ctx.config.clock_skew:
        raise DCIError(
            MsgHeaderStatusReasonCode.MESSAGE_TS_INVALID,
            f"message_ts is {int(skew)} s away from our clock "
            f"(at most {ctx.config.clock_skew} s allowed)",
        )
    if header.receiver_id and header.receiver_id not in (receiver_ids or (ctx.our_id,)):
        raise DCIError(ErrorCode.RECEIVER_ID_INVALID, f"receiver_id must be {ctx.our_id!r}")


def request_digest(data, body, verified_digest=None):
    """SHA-256 (hex) of the RFC 8785 form of ``{header, message}``, what the signature covers.

    A re-send of the same message is recognised by it, however its JSON is spaced or
    re-signed; a body with no canonical form (numbers beyond I-JSON, only possible
    unsigned) is digested as received. A signed message brings the digest its
    verification computed (``SHA-256=<base64>``).
    """
    if verified_digest:
        return base64.b64decode(verified_digest.removeprefix(DIGEST_PREFIX)).hex()
    try:
        payload = canonical_json(signing_payload(data.get("header"), data.get("message")))
    except CanonicalizationError:
        payload = body
    return hashlib.sha256(payload).hexdigest()


def check_sender_uri(path, sender, sender_uri):
    """The callback URL of an async request: ``sender_uri``, else the sender's default.

    The spec lets ``sender_uri`` be left out when a default was configured at
    onboarding; the default passes the same callback checks as a given one.
    """
    if sender_uri:
        return check_callback_url(sender_uri, sender.callback_hosts, sender.allow_private_callbacks)
    default = default_callback_url(sender.callback_base_url, CALLBACK_PATHS[path])
    if not default:
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID,
            "header.sender_uri is required for asynchronous requests "
            "(no default callback URL is configured for this sender)",
        )
    return check_callback_url(
        default,
        sender.callback_hosts,
        sender.allow_private_callbacks,
        field="the sender's default callback URL",
    )


def check_request(ctx, path, sender, data, body, upload=None):
    """Steps 4-5 of the module docstring for a registry path; a CheckedRequest.

    ``upload``: the file of a file search (file_search.py); once the envelope's
    signature is checked, its rows become the search items of ``data``.
    """
    endpoint = ENDPOINTS[path]
    mode = REGISTRY_PATHS[path][1]
    signature_state, kid, verified_digest = check_envelope(sender, data)
    digest = request_digest(data, body, verified_digest)
    max_items = ctx.config.max_items
    if upload is not None:
        data = file_search.expand(ctx, mode, data, upload)
        max_items = file_search.max_rows(ctx.config, mode)
    envelope = parse_request_envelope(data, endpoint.action, LENIENT_MESSAGES.get(endpoint.action))
    header = envelope.header
    check_header(ctx, header)
    if header.total_count > max_items:
        raise DCIError(
            MsgHeaderStatusReasonCode.TOTAL_COUNT_LIMIT_EXCEEDED,
            f"at most {max_items} items per message",
        )
    sender_uri = None
    if mode == ASYNC:
        sender_uri = check_sender_uri(path, sender, header.sender_uri)
    if path == SUBSCRIBE and not notify_url(
        sender.notify_uri, sender_uri, sender.callback_base_url
    ):
        # every item would be refused in the callback: refuse the request in the ACK
        raise DCIError(
            ErrorCode.SENDER_URI_INVALID,
            "header.sender_uri must end with /on-subscribe: notifications go to it with "
            "on-subscribe replaced by notify (this sender has no notify URI and no "
            "default callback URL)",
        )
    return CheckedRequest(
        path=path,
        action=str(endpoint.action),
        mode=mode,
        sender=sender,
        data=data,
        envelope=envelope,
        signature_state=signature_state,
        kid=kid,
        sender_uri=sender_uri,
        digest=digest,
    )
