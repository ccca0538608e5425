"""Answering a checked registry request: now (sync), or ACK now and call back (async).

An identical re-send of an accepted request (the caller timed out and sent the
same envelope again, see ``transactions.record``) gets the first request's
answer and writes nothing: async, the same ACK and no second job; sync, the
same read again under the first request's ``correlation_id`` (sync answers
are not kept). Re-sends count in the per-worker rate window, as they add no row.
"""

import logging
import time
import traceback
from datetime import datetime

from odoo.addons.spp_dci.dci.codes import AckStatus
from odoo.addons.spp_dci.dci.errors import DCIError, ack_body
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS, parse_request_envelope

from . import transactions
from .auth import check_local_rate
from .concurrency import RETRYABLE, job_retry
from .context import DCIContext
from .handlers import LENIENT_MESSAGES, Exchange, process
from .paths import ASYNC_PATHS, REPLY_ACTIONS
from .replies import Reply, internal_error, json_bytes, rejection_envelope

_logger = logging.getLogger(__name__)

#: characters of a failure's traceback kept on the transaction (its end: the exception)
MAX_ERROR_DETAIL = 10000


def _read(ctx, checked, correlation_id, env):
    exchange = Exchange(
        sender=env["spp.dci.sender"].browse(checked.sender.id),
        client_id=checked.sender.client_id,
        correlation_id=correlation_id,
    )
    return process(ctx, checked.action, exchange, checked.message, env=env)


def answer_sync(ctx, checked, started):
    """Process on the read-only cursor, then the one write: the transaction row."""
    correlation_id = transactions.new_correlation_id()
    reply = _read(ctx, checked, correlation_id, ctx.read_env)
    ctx.end_reads()
    raw = json_bytes(reply)  # written once: the reply's body and its digest
    recorded = transactions.record(
        ctx,
        checked,
        correlation_id,
        state="done",
        reply=reply,
        reply_bytes=raw,
        started=started,
        store_payloads=ctx.config.store_payloads,
    )
    if recorded.replayed:
        check_local_rate(ctx, checked.sender)
        # the read-only cursor is closed; a re-send is rare: the request's cursor reads
        return Reply(200, _read(ctx, checked, recorded.correlation_id, ctx.env))
    return Reply(200, reply, raw=raw)


def accept_async(ctx, checked):
    """Record the request (with its payload, the batch job reads it) and hand it over.

    The row is committed first, then a batch job is looked for in a new snapshot
    (``spp.dci.transaction._dci_hand_over``): a batch job that is not started yet
    claims its rows after this commit, so it answers this one too; otherwise a new
    batch job is queued. No queue job is written per request.
    """
    recorded = transactions.record(
        ctx, checked, transactions.new_correlation_id(), state="received", store_payloads=True
    )
    if recorded.replayed:
        check_local_rate(ctx, checked.sender)
    else:
        ctx.env["spp.dci.transaction"]._dci_hand_over()
    return Reply(200, ack_body(AckStatus.ACK, recorded.correlation_id))


def answer_async_transaction(txn, savepoints):
    """Answer one claimed asynchronous request: the values to write on ``txn`` (its
    reply, and the callback to send: ``delivery_state`` queued). The batch job writes
    them after answering its whole batch, so that no write is flushed between two
    answers (each answer is in a savepoint of ``savepoints``, which flushes).

    :raises RetryableJobError: a concurrency error (the whole batch runs again).
    """
    started = time.monotonic()
    ctx = DCIContext(txn.env, txn.endpoint_id._dci_config())
    data = txn.sudo().request_payload
    endpoint = ENDPOINTS[ASYNC_PATHS[txn.action]]
    reply_action = REPLY_ACTIONS[endpoint.action]
    sender = txn.sender_id
    values = {"state": "done"}
    try:
        with savepoints.answer():
            envelope = parse_request_envelope(
                data, endpoint.action, LENIENT_MESSAGES.get(endpoint.action)
            )
            exchange = Exchange(sender, sender.client_id, txn.correlation_id, txn)
            reply = process(ctx, endpoint.action, exchange, envelope.message)
    except DCIError as err:
        reply = rejection_envelope(ctx, reply_action, err, sender.client_id)
        values.update(status_reason_code=str(err.code), status_reason_message=err.message)
    except RETRYABLE as exc:
        raise job_retry(exc) from exc  # queue_job runs the job again (bounded)
    except Exception:  # the caller gets a generic answer; the details stay with us
        _logger.exception("DCI: processing transaction %s failed", txn.correlation_id)
        err = internal_error()
        reply = rejection_envelope(ctx, reply_action, err, sender.client_id)
        values.update(
            state="failed",
            status_reason_code=str(err.code),
            status_reason_message=err.message,
            error_detail=traceback.format_exc()[-MAX_ERROR_DETAIL:],
        )
    values.update(
        done_at=datetime.now(),
        response_payload=reply,
        response_digest=transactions.digest(reply),
        duration_ms=int((time.monotonic() - started) * 1000),
        delivery_url=txn.sender_uri,
        delivery_payload=reply,
        delivery_message_id=reply.get("header", {}).get("message_id"),
        delivery_state="queued",
        delivery_attempts=0,
        delivery_next_try=datetime.now(),
        delivery_last_error=False,
        delivery_http_status=0,
    )
    return values
