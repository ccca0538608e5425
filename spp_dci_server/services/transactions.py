"""The transaction row of a request: one INSERT, the unique index deciding re-sends.

A sync request is read and answered first (on the read-only cursor), then
recorded with a single ``INSERT ... ON CONFLICT DO NOTHING``. When the
``(sender_id, message_id)`` index already holds the message, nothing is
written and the first row decides: the same path and the same request digest
(header + message) make an identical re-send, answered as the first one
(:class:`Recorded` ``replayed``); anything else is ``rjct.message_id.duplicate``.
The row keeps the digests of request and answer, counts, codes and timing; the
whole payloads only where txn status or retries need them (async requests) or
when the endpoint stores payloads (``dci_store_payloads``). ``create_uid`` and
``write_uid`` stay empty: the endpoint (``endpoint_id``) and the sender say who
wrote the row, and each of those two foreign keys would cost the INSERT a check
planned again at every request (the pool's ``DISCARD ALL``).
"""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg2.extras import Json

from odoo.addons.spp_dci.dci.codes import MsgHeaderStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError

from .replies import json_bytes

_INSERT = """
INSERT INTO spp_dci_transaction (
    endpoint_id, registry_type, sender_id, action, mode, message_id, message_ts,
    transaction_id, correlation_id, reference_ids, item_count, sender_uri,
    signature_state, signature_kid, state, status_reason_code, status_reason_message,
    done_at, duration_ms, request_digest, response_digest, request_payload,
    response_payload, delivery_state, delivery_attempts, delivery_http_status,
    create_uid, write_uid, create_date, write_date
) VALUES (
    %(endpoint_id)s, %(registry_type)s, %(sender_id)s, %(action)s, %(mode)s, %(message_id)s,
    %(message_ts)s, %(transaction_id)s, %(correlation_id)s, %(reference_ids)s, %(item_count)s,
    %(sender_uri)s, %(signature_state)s, %(signature_kid)s, %(state)s, %(status_reason_code)s,
    %(status_reason_message)s, %(done_at)s, %(duration_ms)s, %(request_digest)s,
    %(response_digest)s, %(request_payload)s, %(response_payload)s, 'none', 0, 0,
    NULL, NULL, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
)
ON CONFLICT (sender_id, message_id) WHERE state != 'rejected' DO NOTHING
RETURNING id
"""
#: The accepted row holding a sender's message_id (the unique index's own predicate).
_FIRST = """
SELECT id, correlation_id, action, mode, request_digest FROM spp_dci_transaction
 WHERE sender_id = %s AND message_id = %s AND state != 'rejected'
"""


@dataclass(frozen=True)
class Recorded:
    """The row that answers a request: its own new row, or the first one of a re-send."""

    id: int
    correlation_id: str
    #: an identical re-send: nothing was written, the first request's row answers it
    replayed: bool = False


def new_correlation_id():
    return str(uuid.uuid4())


def _text(value):
    return value if isinstance(value, str) else None


def _references(message):
    items = (
        getattr(message, "search_request", None)
        or getattr(message, "subscribe_request", None)
        or []
    )
    references = [i.get("reference_id") for i in items if isinstance(i, dict)]
    query = getattr(message, "txnstatus_request", None)
    if query is not None and not isinstance(query, dict):
        references = [query.reference_id]
    return [r for r in references if isinstance(r, str)]


def digest(data):
    return hashlib.sha256(data if isinstance(data, bytes) else json_bytes(data)).hexdigest()


def _values(ctx, sender, action, mode, data, correlation_id):
    header = data.get("header") if isinstance(data.get("header"), dict) else {}
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    return {
        "endpoint_id": ctx.config.endpoint_id,
        "registry_type": ctx.config.registry_type,
        "sender_id": sender.id,
        "action": str(action),
        "mode": mode,
        "message_id": _text(header.get("message_id")),
        "message_ts": None,
        "transaction_id": _text(message.get("transaction_id")),
        "correlation_id": correlation_id,
        "reference_ids": None,
        "item_count": 0,
        "sender_uri": None,
        "signature_state": None,
        "signature_kid": None,
        "state": "received",
        "status_reason_code": None,
        "status_reason_message": None,
        "done_at": None,
        "duration_ms": None,
        "request_digest": None,
        "response_digest": None,
        "request_payload": None,
        "response_payload": None,
    }


def _insert(env, values):
    for key in ("reference_ids", "request_payload", "response_payload"):
        if values[key] is not None:
            values[key] = Json(values[key], dumps=_dumps)
    env.cr.execute(_INSERT, values)
    row = env.cr.fetchone()
    return row[0] if row else None


def _dumps(value):
    return json.dumps(value, ensure_ascii=False)


def record(
    ctx,
    checked,
    correlation_id,
    *,
    state,
    reply=None,
    reply_bytes=None,
    started=None,
    store_payloads,
):
    """Write the transaction row of an accepted request; a :class:`Recorded`.

    ``reply_bytes``: ``json_bytes(reply)`` when the caller has written them already.

    :raises DCIError: ``rjct.message_id.duplicate`` when the message_id was already
        received with another request (path, header or message).
    """
    header = checked.header
    values = _values(
        ctx, checked.sender, checked.action, checked.mode, checked.data, correlation_id
    )
    references = _references(checked.message)
    values.update(
        message_ts=header.message_ts.astimezone(UTC).replace(tzinfo=None),
        transaction_id=checked.message.transaction_id,
        reference_ids=references,
        item_count=len(references) or 1,
        sender_uri=checked.sender_uri,
        signature_state=checked.signature_state,
        signature_kid=checked.kid,
        state=state,
        request_digest=checked.digest,
    )
    if reply is not None:
        values.update(
            done_at=utc_naive_now(),
            response_digest=digest(reply_bytes if reply_bytes is not None else reply),
            status_reason_code=_text(reply.get("header", {}).get("status_reason_code")),
        )
    if started is not None:
        values["duration_ms"] = int((time.monotonic() - started) * 1000)
    if store_payloads:
        values.update(request_payload=checked.data, response_payload=reply)
    txn_id = _insert(ctx.env, values)
    if txn_id is not None:
        return Recorded(txn_id, correlation_id)
    # The conflicting row is committed and visible here: on a row still being written
    # the INSERT waited for it, and under REPEATABLE READ one committed after our
    # snapshot raised a serialization failure, which Odoo retries (the whole request).
    ctx.env.cr.execute(_FIRST, (checked.sender.id, header.message_id))
    first = ctx.env.cr.fetchone()
    if first and first[2:] == (str(checked.action), checked.mode, checked.digest):
        return Recorded(first[0], first[1], replayed=True)
    raise DCIError(
        MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
        f"message_id {header.message_id!r} was already received",
    )


def record_rejection(ctx, sender, action, mode, data, err, *, store_payloads):
    """The row of a refused request (refused rows never take the message_id)."""
    values = _values(ctx, sender, action, mode, data, new_correlation_id())
    values.update(
        state="rejected",
        status_reason_code=str(err.code),
        status_reason_message=err.message,
        done_at=utc_naive_now(),
    )
    if store_payloads:
        values["request_payload"] = data
    return _insert(ctx.env, values)


def utc_naive_now():
    return datetime.now(UTC).replace(tzinfo=None)
