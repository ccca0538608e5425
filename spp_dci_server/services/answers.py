"""Answering a checked registry request: now (sync), or ACK now and call back (async)."""

import logging
import time
from datetime import datetime

from odoo.addons.spp_dci.dci.codes import AckStatus, ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError, ack_body
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS, parse_request_envelope

from . import transactions
from .concurrency import RETRYABLE, job_retry
from .context import DCIContext
from .handlers import LENIENT_MESSAGES, Exchange, process
from .paths import ASYNC_PATHS, REPLY_ACTIONS
from .replies import Reply, rejection_envelope

_logger = logging.getLogger(__name__)


def answer_sync(ctx, checked, started):
    """Process on the read-only cursor, then the one write: the transaction row."""
    read_env = ctx.read_env
    correlation_id = transactions.new_correlation_id()
    exchange = Exchange(
        sender=read_env["spp.dci.sender"].browse(checked.sender.id),
        client_id=checked.sender.client_id,
        correlation_id=correlation_id,
    )
    reply = process(ctx, checked.action, exchange, checked.message, env=read_env)
    ctx.end_reads()
    transactions.record(
        ctx,
        checked,
        correlation_id,
        state="done",
        reply=reply,
        started=started,
        store_payloads=ctx.config.store_payloads,
    )
    return Reply(200, reply)


def accept_async(ctx, checked):
    """Record the request (with its payload, the job reads it) and queue the job."""
    correlation_id = transactions.new_correlation_id()
    txn_id = transactions.record(
        ctx, checked, correlation_id, state="received", store_payloads=True
    )
    txn = ctx.env["spp.dci.transaction"].browse(txn_id)
    txn.with_delay(
        channel="root.dci", description=f"DCI: {checked.action} {correlation_id}"
    )._dci_process()
    return Reply(200, ack_body(AckStatus.ACK, correlation_id))


def process_async_transaction(txn):
    """Job body of spp.dci.transaction._dci_process: answer through the callback."""
    started = time.monotonic()
    ctx = DCIContext(txn.env, txn.endpoint_id._dci_config())
    data = txn.sudo().request_payload
    endpoint = ENDPOINTS[ASYNC_PATHS[txn.action]]
    reply_action = REPLY_ACTIONS[endpoint.action]
    sender = txn.sender_id
    values = {"state": "done"}
    try:
        with txn.env.cr.savepoint():
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
    except Exception as exc:  # the caller still gets an answer; the traceback stays here
        _logger.exception("DCI: processing transaction %s failed", txn.correlation_id)
        err = DCIError(ErrorCode.SERVICE_UNAVAILABLE, "internal error; it has been logged", 503)
        reply = rejection_envelope(ctx, reply_action, err, sender.client_id)
        values.update(
            state="failed",
            status_reason_code=str(err.code),
            status_reason_message=f"{exc.__class__.__name__}: {exc}"[:500],
        )
    values.update(
        done_at=datetime.now(),
        response_payload=reply,
        response_digest=transactions.digest(reply),
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    txn.sudo().write(values)
    txn._dci_queue_delivery(txn.sender_uri, reply)
    return f"{txn.action} processed, callback queued"
