import logging
from datetime import UTC

import psycopg2

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import MsgHeaderStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.exceptions import UserError

from ..services import retention
from ..services.concurrency import RETRYABLE, job_retry
from .json_text import json_text_field

_logger = logging.getLogger(__name__)

CALLBACK_ACTIONS = [
    ("on-search", "on-search"),
    ("on-subscribe", "on-subscribe"),
    ("on-unsubscribe", "on-unsubscribe"),
    ("notify", "notify"),
    ("txn-on-status", "txn-on-status"),
]


PURGED = "The payload was dropped after the retention period"


class SppDciInbox(models.Model):
    """A callback received on our caller-side paths (on-search, notify ...).

    The server acknowledges and stores it; processing belongs to the addons
    that sent the matching requests. Any model that declares
    ``_dci_callback_handler = True`` and implements
    ``_dci_handle_callback(inbox)`` is called, in a queue job, for every
    received callback (it checks ``inbox.action`` / ``inbox.correlation_id`` and
    ignores what is not its own). No handler installed: the message stays
    ``received`` for an operator to see.
    """

    _name = "spp.dci.inbox"
    _description = "DCI Received Callback"
    _order = "id desc"
    _rec_name = "message_id"

    endpoint_id = fields.Many2one("fastapi.endpoint", readonly=True, ondelete="set null")
    registry_type = fields.Char(readonly=True)
    sender_id = fields.Many2one(
        "spp.dci.sender", required=True, readonly=True, ondelete="restrict", index=True
    )
    action = fields.Selection(CALLBACK_ACTIONS, required=True, readonly=True)
    message_id = fields.Char(required=True, readonly=True)
    message_ts = fields.Datetime(readonly=True)
    header_status = fields.Char(readonly=True)
    transaction_id = fields.Char(readonly=True, index=True)
    correlation_id = fields.Char(readonly=True, index=True)
    signature_state = fields.Selection(
        [("verified", "Verified"), ("unsigned", "Unsigned (policy off)")], readonly=True
    )
    signature_kid = fields.Char(readonly=True)
    state = fields.Selection(
        [("received", "Received"), ("processed", "Processed"), ("failed", "Failed")],
        default="received",
        required=True,
        readonly=True,
        index=True,
    )
    error = fields.Char(readonly=True)
    processed_at = fields.Datetime(readonly=True)
    payload = fields.Json(readonly=True, groups="spp_dci.group_dci_admin")
    payload_text = json_text_field(
        "payload", string="Payload (JSON)", groups="spp_dci.group_dci_admin"
    )

    _message_unique = models.Constraint(
        "UNIQUE(sender_id, message_id)", "This sender already sent a message with this message_id."
    )
    # the retention purge walks the rows that still hold a payload, oldest first
    _payload_retention_index = models.Index(retention.payload_index("payload"))

    @api.model
    def _dci_receiver_ids(self):
        """Our ids a callback may be addressed to (``receiver_id``), besides the endpoint's.

        The system-wide sender id here; addons that send requests under other ids
        (a data source's own sender id) add theirs.
        """
        return {self.env["spp.dci.signing.key"].sudo()._dci_sender_id()}

    @api.model
    def _dci_requires_http_signature(self, sender):
        """Whether callbacks from ``sender`` (a SenderInfo) must carry an RFC 9421 signature.

        Besides the sender's own *Require HTTP Signature*; addons that know the peer
        under another model (a data source) add their setting.
        """
        return False

    @api.model
    def _dci_redelivery(self, sender, action, message_id, data):
        """The stored callback that ``data`` delivers again, or an empty recordset.

        A peer re-sends a callback with the same ``message_id`` when our ACK was
        lost (a timeout, a crash before its commit); each attempt carries a fresh
        ``message_ts`` and signature, so the same message is what identifies it. It
        gets the ACK again and is processed once. Another message under a used id
        stays a duplicate (409), as does a re-delivery once its payload was purged.
        """
        known = self.sudo().search(
            [("sender_id", "=", sender.id), ("message_id", "=", message_id)], limit=1
        )
        if known and known.action == str(action):
            if isinstance(known.payload, dict) and known.payload.get("message") == data.get(
                "message"
            ):
                return known.sudo(False)
        return self.browse()

    @api.model
    def _dci_receive(self, config, sender, action, data, envelope, signature_state, kid):
        header = envelope.header
        message = envelope.message
        if self.search_count(
            [("sender_id", "=", sender.id), ("message_id", "=", header.message_id)], limit=1
        ):
            raise DCIError(
                MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
                f"message_id {header.message_id!r} was already received",
            )
        values = {
            "endpoint_id": config.endpoint_id,
            "registry_type": config.registry_type,
            "sender_id": sender.id,
            "action": str(action),
            "message_id": header.message_id,
            "message_ts": header.message_ts.astimezone(UTC).replace(tzinfo=None),
            "header_status": str(getattr(header, "status", "") or "") or False,
            "transaction_id": getattr(message, "transaction_id", None) or False,
            "correlation_id": getattr(message, "correlation_id", None) or False,
            "signature_state": signature_state,
            "signature_kid": kid or False,
            "payload": data,
        }
        try:
            with self.env.cr.savepoint():
                record = self.sudo().create(values)
        except psycopg2.IntegrityError:
            raise DCIError(
                MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
                f"message_id {header.message_id!r} was already received",
            ) from None
        return record.sudo(False)

    @api.model
    def _dci_callback_handlers(self):
        return [
            self.env[name]
            for name, model_class in sorted(self.env.registry.items())
            if getattr(model_class, "_dci_callback_handler", False)
        ]

    def _dci_dispatch(self):
        """Job: hand the callback to every installed handler."""
        self.ensure_one()
        if not self.sudo().payload:
            self.write({"state": "failed", "error": PURGED})
            return PURGED
        handlers = self._dci_callback_handlers()
        if not handlers:
            return "no handler installed"
        try:
            with self.env.cr.savepoint():
                for handler in handlers:
                    handler._dci_handle_callback(self)
        except RETRYABLE as exc:  # not the message's fault: queue_job runs the job again
            raise job_retry(exc) from exc
        except Exception as exc:  # a handler bug must not lose the message
            _logger.exception("DCI callback %s: a handler failed", self.message_id)
            self.write({"state": "failed", "error": f"{exc.__class__.__name__}: {exc}"[:500]})
            return "handler failed"
        self.write({"state": "processed", "processed_at": fields.Datetime.now(), "error": False})
        return f"handled by {', '.join(h._name for h in handlers)}"

    def action_reprocess(self):
        if any(not record.sudo().payload for record in self):
            raise UserError(self.env._("%s: nothing to process again.", PURGED))
        for record in self:
            record.write({"state": "received", "error": False})
            record.with_delay(channel="root.dci")._dci_dispatch()

    @api.autovacuum
    def _gc_old_payloads(self):
        """Drop payloads of callbacks older than the retention period (a batch per call)."""
        days = retention.retention_days(
            self.env, retention.INBOX_DAYS, fallback_key=retention.TRANSACTION_DAYS
        )
        return retention.purge_batch(self.sudo(), days, payloads=("payload",))
