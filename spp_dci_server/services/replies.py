"""The one reply renderer: spec bodies for every answer, signed twice.

Every answer is JSON; DCI envelopes carry our DCI body signature
(:func:`sign_envelope`), and every HTTP response an RFC 9421 signature over
status, content type and ``Content-Digest`` (:func:`render`).

Error bodies (:func:`error_reply`): 401/403 are ``HttpErrorResponse``; other
errors are an ERR ACK on asynchronous paths and a signed ``status: rjct``
callback envelope on the synchronous ones (their spec ``default`` response).
Each also carries ``errors`` and the RFC 9457 members (``DCIError.problem_members``).
"""

import json
import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from odoo.addons.spp_dci.dci.codes import ErrorCode, MsgHeaderStatusReasonCode, RequestStatus
from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.errors import DCIError, error_ack_body
from odoo.addons.spp_dci.dci.http_signature import sign_response
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS
from odoo.addons.spp_dci.dci.schemas.common import MsgCallbackHeader, format_timestamp, utc_now

_logger = logging.getLogger(__name__)


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    #: ``json_bytes(body)`` when already written (the sync answer digests those bytes)
    raw: bytes | None = None


def now_ts(value=None):
    return format_timestamp(value or utc_now())


def json_bytes(data):
    """Compact UTF-8 JSON (the HTTP body; the signed bytes are canonicalised separately)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def render(ctx, reply: Reply):
    """Serialise ``reply`` and sign it (RFC 9421 ``Signature`` + ``Content-Digest``)."""
    body = reply.raw if reply.raw is not None else json_bytes(reply.body)
    headers = {"Content-Type": "application/json", **reply.headers}
    try:
        headers.update(sign_response(reply.status, headers, body, ctx.signer))
    except Exception:  # signing must never turn an answer into a 500
        _logger.exception("DCI: could not sign the HTTP response")
    return body, headers


def sign_envelope(ctx, header, message):
    return build_envelope(header, message, ctx.signer, ctx.our_id)


#: s a stored callback's stamp and signature stay good enough to send as they are
FRESH_SECONDS = 30


def restamped_envelope(envelope, signer, *, just_signed=False):
    """A stored envelope as it is sent now: fresh ``message_ts``, signed again by ``signer``.

    Receivers hold ``message_ts`` to their clock skew and our signature lives 600 s, so a
    callback is stamped and signed at each delivery attempt, not when it was queued. An
    envelope ``just_signed`` (the send job's first attempt, moments after answering) is
    sent as it is when it was stamped less than :data:`FRESH_SECONDS` ago: signing it
    again would change nothing a receiver checks. ``message_id``, the rest of the header and the
    message stay as they were stored.
    """
    stamp = envelope["header"].get("message_ts")
    if just_signed and envelope.get("signature") and _age_seconds(stamp) < FRESH_SECONDS:
        return envelope
    header = {**envelope["header"], "message_ts": now_ts()}
    return build_envelope(header, envelope.get("message"), signer, header.get("sender_id"))


def _age_seconds(message_ts):
    """Seconds since ``message_ts`` (an RFC 3339 text); infinite when it cannot be read."""
    try:
        stamped = datetime.fromisoformat(message_ts.replace("Z", "+00:00"))
        return (utc_now() - stamped).total_seconds() if stamped.tzinfo else math.inf
    except (AttributeError, TypeError, ValueError):
        return math.inf


def internal_error():
    """What a caller learns of an unexpected failure on our side.

    Exception texts may name tables, hosts or values: they stay in our log and on the
    transaction (``error_detail``, administrators only), never in an answer.
    """
    return DCIError(ErrorCode.SERVICE_UNAVAILABLE, "internal error; it has been logged", 503)


def refusal_text(code, message):
    """``status_reason_message`` of a refusal: the code leads unless the field has its own."""
    return message if isinstance(code, MsgHeaderStatusReasonCode) else f"{code}: {message}"


def callback_header(
    ctx, reply_action, status, receiver_id, header_class=MsgCallbackHeader, **values
):
    """The header of a callback we send: a new message_id, now, from us to ``receiver_id``."""
    return header_class(
        message_id=str(uuid.uuid4()),
        message_ts=utc_now(),
        action=reply_action,
        status=status,
        sender_id=ctx.our_id,
        receiver_id=receiver_id,
        **values,
    )


def rejection_envelope(ctx, reply_action, err, receiver_id=None):
    """A signed callback envelope with ``header.status: rjct`` and no message."""
    code = err.code if isinstance(err.code, MsgHeaderStatusReasonCode) else None
    text = refusal_text(err.code, err.message)
    header = callback_header(
        ctx,
        reply_action,
        RequestStatus.RJCT,
        receiver_id,
        status_reason_code=code,
        status_reason_message=text[:999],
        total_count=0,
        completed_count=0,
    )
    return build_envelope(header, None, ctx.signer, ctx.our_id)


def error_reply(ctx, path, err: DCIError, sender=None):
    """The spec answer of ``err`` on ``path`` (``sender``: a SenderInfo, when known)."""
    headers = dict(err.http_headers)
    status = err.http_status
    if status in (401, 403) or path not in ENDPOINTS:
        if status == 401:
            # only a token problem says invalid_token: on a refused signature the token
            # was good, and OAuth clients throw a token away on invalid_token
            token_error = err.code == ErrorCode.REQUEST_UNAUTHORIZED
            headers["WWW-Authenticate"] = (
                'Bearer realm="dci", error="invalid_token"' if token_error else 'Bearer realm="dci"'
            )
        return Reply(status, err.http_body(), headers)
    endpoint = ENDPOINTS[path]
    if endpoint.is_sync and endpoint.reply_action:
        receiver = sender.client_id if sender else None
        body = rejection_envelope(ctx, endpoint.reply_action, err, receiver)
    else:
        body = error_ack_body(err, str(uuid.uuid4()))
    # beside the envelope, outside what its signature covers (header + message)
    return Reply(status, {**body, **err.problem_members(status)}, headers)
