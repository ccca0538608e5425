import logging
import threading
import time
from datetime import timedelta

import httpx

from odoo import _, api, fields, models
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.http_signature import sign_request
from odoo.exceptions import UserError

from ..services import stranded_deliveries
from ..services.callbacks import (
    DeliveryError,
    DeliveryGaveUp,
    DeliveryRequest,
    Outcome,
    check_callback_url,
    client,
    gave_up_reason,
    send,
)
from ..services.replies import json_bytes, restamped_envelope
from .json_text import json_text_field

_logger = logging.getLogger(__name__)

DELIVERY_STATES = [
    ("none", "Not Needed"),
    ("queued", "Queued"),
    ("retrying", "Retrying"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]

# The longest wait between two attempts: a long series keeps trying at least hourly.
MAX_BACKOFF = 3600

# Bearer tokens for senders whose callback endpoints require one, per process:
# {(token_url, client_id): (token, expires_at_monotonic)}.
_callback_tokens = {}
_callback_tokens_lock = threading.Lock()

# The last attempt of a delivery job that gave up, kept for its on-fail hook: queue_job
# rolls the job back before calling the hook (same process and thread, right after).
_gave_up = {}


class SppDciDeliveryMixin(models.AbstractModel):
    """Signed POST of a stored DCI envelope to a sender, with retries.

    Each attempt is one queue_job job (the first attempt of an asynchronous answer is
    made by the batch job that answered it, see ``spp.dci.transaction``). A failed
    attempt is recorded (attempts, last error, HTTP status) and the next one is queued
    with an exponential backoff: ``spp_dci_server.delivery_backoff`` seconds times
    2^(attempt-1), at most an hour. After ``spp_dci_server.delivery_max_attempts``
    attempts the delivery is ``failed`` and shows a Retry button, and its delivery job
    is *failed* in the Job Queue with the reason. 4xx answers (except 408/425/429) fail
    at once: the peer refused the message itself.

    Every attempt sends the stored envelope with a fresh ``header.message_ts``
    and fresh signatures (body and HTTP), so a retry after a backlog, a backoff
    or the Retry button is as fresh as a first attempt for a strict receiver.
    ``header.message_id`` stays that of the stored envelope: the spec makes it
    the id of a reliable delivery until the receiver ACKs it, so a receiver that
    already has an earlier attempt can recognise the retry.
    """

    _name = "spp.dci.delivery.mixin"
    _description = "DCI Delivery (signed callback with retries)"

    delivery_url = fields.Char(string="Callback URL", readonly=True)
    delivery_state = fields.Selection(
        DELIVERY_STATES, default="none", required=True, readonly=True, index=True
    )
    delivery_attempts = fields.Integer(readonly=True)
    delivery_next_try = fields.Datetime(readonly=True)
    delivery_last_error = fields.Char(readonly=True)
    delivery_http_status = fields.Integer(string="Callback HTTP Status", readonly=True)
    delivery_sent_at = fields.Datetime(readonly=True)
    delivery_message_id = fields.Char(string="Callback Message ID", readonly=True)
    delivery_payload = fields.Json(
        string="Callback Payload", readonly=True, groups="spp_dci.group_dci_admin"
    )
    delivery_payload_text = json_text_field(
        "delivery_payload", string="Callback Payload (JSON)", groups="spp_dci.group_dci_admin"
    )

    def _dci_delivery_sender(self):
        """The spp.dci.sender record that receives this delivery."""
        return self.sender_id

    @api.model
    def _dci_delivery_settings(self):
        params = self.env["ir.config_parameter"].sudo()
        attempts = int(params.get_param("spp_dci_server.delivery_max_attempts", 8) or 8)
        backoff = int(params.get_param("spp_dci_server.delivery_backoff", 10) or 10)
        return max(1, attempts), max(1, backoff)

    def _dci_queue_delivery(self, url, envelope):
        """Store ``envelope`` and queue its first delivery attempt to ``url``.

        Each attempt sends it with a fresh ``message_ts`` and signatures, same ``message_id``.
        """
        for record in self:
            record.sudo().write(
                {
                    "delivery_url": url,
                    "delivery_payload": envelope,
                    "delivery_message_id": envelope.get("header", {}).get("message_id"),
                    "delivery_state": "queued",
                    "delivery_attempts": 0,
                    "delivery_next_try": fields.Datetime.now(),
                    "delivery_last_error": False,
                    "delivery_http_status": 0,
                }
            )
            record._dci_delay_delivery()

    def _dci_delay_delivery(self, eta=None):
        self.ensure_one()
        return self.with_delay(
            eta=eta,
            channel="root.dci",
            description=f"DCI: deliver {self._description} {self.display_name}",
        )._dci_deliver()

    def _dci_deliver(self):
        """Job: one delivery attempt.

        A failed attempt that will be tried again ends the job done (the next attempt
        is its own job, at its eta); a delivery that gives up fails the job
        (:class:`DeliveryGaveUp`), so the Job Queue's *Failed* filter lists it with the
        reason, and ``_dci_delivery_gave_up`` (queue_job's on-fail hook, after the
        job's rollback) records it on the record.
        """
        self.ensure_one()
        if self.delivery_state not in ("queued", "retrying"):
            return "nothing to deliver"
        outcome = self._dci_attempt_delivery()
        if outcome.gave_up:
            _gave_up[(self._name, self.id)] = outcome.values
            raise DeliveryGaveUp(outcome.reason)
        return outcome.summary

    def _dci_delivery_gave_up(self, exc_message=None, **_fail_values):
        """On-fail hook of ``_dci_deliver`` (a new transaction): record the last attempt."""
        values = _gave_up.pop((self._name, self.id), None) or {
            "delivery_attempts": self.delivery_attempts + 1,
            "delivery_last_error": (exc_message or "")[:500],
        }
        self.sudo().write({**values, "delivery_state": "failed", "delivery_next_try": False})
        self._dci_delivery_failed()

    def _dci_attempt_delivery(self, just_signed=False):
        """One attempt: POST, write the outcome, queue the next attempt when it is worth
        one; an :class:`Outcome`. ``just_signed``: the stored envelope was signed moments
        ago, see ``restamped_envelope``.

        A delivery that gives up is written ``failed`` here; the caller decides how it
        is listed (the job fails, the send job records a failed delivery job).
        """
        try:
            result = send(self._dci_delivery_request(just_signed))
        except DeliveryError as exc:  # nothing it may send
            result = exc
        return self._dci_record_attempt(result)

    def _dci_record_attempt(self, result):
        """Write what one attempt came to (``(status, answer)`` or its DeliveryError,
        see ``callbacks.send``) and queue the next attempt when it is worth one; an
        :class:`Outcome`. The send job sends a batch's callbacks together
        (``callbacks.send_batch``), then records each here."""
        max_attempts, backoff = self._dci_delivery_settings()
        attempt = self.delivery_attempts + 1
        if isinstance(result, DeliveryError):
            exc = result
            values = {
                "delivery_attempts": attempt,
                "delivery_last_error": str(exc)[:500],
                "delivery_http_status": exc.status or 0,
            }
            _logger.info("DCI delivery %s attempt %s failed: %s", self.display_name, attempt, exc)
            summary = f"attempt {attempt} failed: {exc}"
            if exc.retryable and attempt < max_attempts:
                wait = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF)
                eta = fields.Datetime.now() + timedelta(seconds=wait)
                values.update(delivery_state="retrying", delivery_next_try=eta)
                self.write(values)
                self._dci_delay_delivery(eta=eta)
                return Outcome(summary)
            values.update(delivery_state="failed", delivery_next_try=False)
            self.write(values)
            self._dci_delivery_failed()
            return Outcome(summary, gave_up=True, values=values, reason=gave_up_reason(summary))
        status, answer = result
        values = {
            "delivery_attempts": attempt,
            "delivery_state": "sent",
            "delivery_sent_at": fields.Datetime.now(),
            "delivery_next_try": False,
            "delivery_http_status": status,
            "delivery_last_error": False,
        }
        ack = (answer or {}).get("message") if isinstance(answer, dict) else None
        summary = f"attempt {attempt}: HTTP {status}"
        if isinstance(ack, dict) and ack.get("ack_status") == "ERR":
            error = ack.get("error") or {}
            reason = f"the receiver answered ERR: {error.get('code')} {error.get('message') or ''}"
            values.update(delivery_state="failed", delivery_last_error=reason[:500])
            self.write(values)
            self._dci_delivery_failed()
            return Outcome(summary, gave_up=True, values=values, reason=gave_up_reason(reason))
        self.write(values)
        return Outcome(summary)

    def _dci_list_gave_up(self, reason):
        """A delivery that gave up outside its own job (the send job's first attempt):
        listed as a failed delivery job, with the reason, like one that gave up in its job.
        Requeued, that job finds nothing to deliver: the Retry button starts a new series."""
        job = self._dci_delay_delivery()
        job.set_failed(exc_name=DeliveryGaveUp.__name__, exc_message=reason, exc_info=reason)
        job.store()
        return job

    def _dci_delivery_failed(self):
        """Hook: the delivery gave up."""

    def _dci_delivery_request(self, just_signed=False):
        """This attempt's signed POST (a DeliveryRequest); raises DeliveryError when there
        is nothing it may send (callback URL refused, payload gone, no sender token)."""
        sender = self._dci_delivery_sender()
        url = self.delivery_url
        allow_private = sender._dci_allows_private_callbacks()
        try:
            check_callback_url(url, sender.callback_hosts, allow_private, field="callback URL")
        except DCIError as exc:
            raise DeliveryError(exc.message, retryable=False) from exc
        stored = self.sudo().delivery_payload
        if not isinstance(stored, dict) or not isinstance(stored.get("header"), dict):
            raise DeliveryError("the callback payload is no longer stored", retryable=False)
        signer = self.env["spp.dci.signing.key"].sudo()._dci_signer()
        envelope = restamped_envelope(stored, signer, just_signed=just_signed)
        body = json_bytes(envelope)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(sign_request("POST", url, headers, body, signer))
        token = self._dci_callback_token(sender)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return DeliveryRequest(url, body, headers, allow_private)

    def _dci_callback_token(self, sender):
        """A bearer token from the sender's token endpoint, when it requires one."""
        sender = sender.sudo()
        if not sender.callback_token_url:
            return None
        key = (sender.callback_token_url, sender.callback_client_id)
        with _callback_tokens_lock:
            cached = _callback_tokens.get(key)
            if cached and cached[1] > time.monotonic() + 30:
                return cached[0]
        try:
            check_callback_url(
                sender.callback_token_url,
                sender.callback_hosts,
                sender.allow_private_callbacks,
                field="callback token URL",
            )
            response = client(sender.allow_private_callbacks).post(
                sender.callback_token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": sender.callback_client_id or "",
                    "client_secret": sender._dci_secret("callback_client_secret") or "",
                },
                timeout=10,
            )
            data = response.json()
            token = data["access_token"]
            ttl = int(data.get("expires_in") or 300)
        except (DCIError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"cannot get a token from the sender: {exc}") from exc
        with _callback_tokens_lock:
            _callback_tokens[key] = (token, time.monotonic() + ttl)
        return token

    def _dci_delivery_job_methods(self):
        """The job methods that send this model's stored callbacks."""
        return ("_dci_deliver",)

    @api.model
    def _dci_sweep_stranded_deliveries(self, older_than_minutes=5, limit=500):
        """Cron: stored callbacks that no live job sends any more (``services/
        stranded_deliveries.py``), in every model with deliveries: written ``failed`` after
        a cancelled or failed job, queued again when their job is gone. ``{model: ids}``."""
        older_than = fields.Datetime.now() - timedelta(minutes=older_than_minutes)
        done = {}
        for name in self.env.registry.descendants(["spp.dci.delivery.mixin"], "_inherit"):
            model = self.env[name].sudo()
            if model._abstract:
                continue
            found = stranded_deliveries.stranded(
                model, model._dci_delivery_job_methods(), older_than, limit
            )
            # one write per job that stopped its deliveries (the reason names the job);
            # the others get a delivery job each, browsed together (one prefetch)
            stopped, requeued = {}, []
            for record_id, (state, uuid) in found.items():
                if state in stranded_deliveries.STOPPED_STATES:
                    stopped.setdefault((state, uuid), []).append(record_id)
                else:
                    requeued.append(record_id)
            for record in model.browse(sorted(requeued)):
                record._dci_delay_delivery()
            for (state, uuid), ids in stopped.items():
                records = model.browse(ids)
                records.write(
                    {
                        "delivery_state": "failed",
                        "delivery_next_try": False,
                        "delivery_last_error": stranded_deliveries.stopped_reason(state, uuid),
                    }
                )
                records._dci_delivery_failed()
            if found:
                _logger.info("DCI: %s stranded deliveries of %s swept", len(found), name)
                done[name] = sorted(found)
        return done

    def action_retry_delivery(self):
        """Button: queue a new series of delivery attempts."""
        for record in self:
            if record.delivery_state not in ("failed", "retrying") or not record.delivery_url:
                raise UserError(_("Only failed deliveries can be retried."))
            record.write(
                {
                    "delivery_state": "queued",
                    "delivery_attempts": 0,
                    "delivery_next_try": fields.Datetime.now(),
                    "delivery_last_error": False,
                }
            )
            record._dci_delay_delivery()
        return True
