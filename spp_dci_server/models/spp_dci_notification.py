import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import Action, RequestStatus
from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.common import (
    DCI_VERSION,
    MsgCallbackHeader,
    format_timestamp,
    utc_now,
)
from odoo.addons.spp_dci.dci.schemas.notify import NotifyEventRequest
from odoo.tools import SQL

from ..services import retention


class SppDciNotification(models.Model):
    """One ``/registry/notify`` message to a subscriber: a batch of events.

    Registry changes that match a subscription are appended to its open
    (``collecting``) notification; the first event schedules the send after
    ``spp_dci_server.notify_batch_seconds`` so that changes made together
    travel together - or, for a subscription with a ``frequency``, at the next
    fire time of its cron expression, so that each period's changes travel
    together - up to ``spp_dci_server.notify_batch_size`` events per message.
    Sending builds the records as they are then, signs the envelope and
    delivers it like every other callback (retries, failure, Retry).
    """

    _name = "spp.dci.notification"
    _description = "DCI Notification"
    _inherit = ["spp.dci.delivery.mixin"]
    _order = "id desc"

    subscription_id = fields.Many2one(
        "spp.dci.subscription", required=True, readonly=True, ondelete="cascade", index=True
    )
    sender_id = fields.Many2one(related="subscription_id.sender_id", store=True, index=True)
    registry_type = fields.Char(related="subscription_id.registry_type", store=True)
    event_type = fields.Char(readonly=True, required=True)
    res_model = fields.Char(readonly=True, required=True)
    record_ids = fields.Json(readonly=True, default=list)
    event_count = fields.Integer(readonly=True)
    state = fields.Selection(
        [("collecting", "Collecting"), ("built", "Built"), ("cancelled", "Cancelled")],
        default="collecting",
        required=True,
        readonly=True,
        index=True,
    )
    transaction_id = fields.Char(readonly=True)
    send_after = fields.Datetime(readonly=True)

    # the retention purge walks the rows that still hold a payload, oldest first
    _payload_retention_index = models.Index(retention.payload_index("delivery_payload"))

    @api.depends("subscription_id", "event_type", "event_count")
    def _compute_display_name(self):
        for notification in self:
            notification.display_name = (
                f"{notification.event_type} x{notification.event_count}"
                f" -> {notification.subscription_id.code}"
            )

    @api.model
    def _dci_batch_settings(self):
        params = self.env["ir.config_parameter"].sudo()
        size = int(params.get_param("spp_dci_server.notify_batch_size", 100) or 100)
        delay = int(params.get_param("spp_dci_server.notify_batch_seconds", 10) or 0)
        return max(1, size), max(0, delay)

    @api.model
    def _dci_add_events(self, subscription, event, record_ids, changed_at=None):
        """Append changed records to the subscription's open notification (sudo caller).

        Without frequency the open notification is the one collecting, sent
        ``notify_batch_seconds`` after its first event. With a frequency it is the
        one of the period ``changed_at`` falls in, sent at the period's end (the
        next fire time of the cron expression, in UTC).
        """
        size, delay = self._dci_batch_settings()
        changed_at = changed_at or fields.Datetime.now()
        due = subscription._dci_next_delivery(changed_at)
        domain = [
            ("subscription_id", "=", subscription.id),
            ("event_type", "=", event),
            ("state", "=", "collecting"),
        ]
        if due:
            domain.append(("send_after", "=", due))
        current = self.search(domain, order="id desc", limit=1)
        already = set(current.record_ids or []) if current else set()
        pending = [i for i in dict.fromkeys(record_ids) if i not in already]
        while pending:
            if not current or current.event_count >= size:
                send_after = due or fields.Datetime.now() + timedelta(seconds=delay)
                current = self.create(
                    {
                        "subscription_id": subscription.id,
                        "event_type": event,
                        "res_model": subscription.res_model,
                        "record_ids": [],
                        "event_count": 0,
                        "send_after": send_after,
                    }
                )
                # the send job runs as the DCI server user, not as whoever edited the registry
                current.with_user(self.env.ref("spp_dci_server.user_dci_server")).with_delay(
                    eta=send_after if due or delay else None,
                    channel="root.dci",
                    description=f"DCI: notify subscription {subscription.code}",
                )._dci_send()
            room = size - current.event_count
            batch, pending = pending[:room], pending[room:]
            ids = list(current.record_ids or []) + batch
            current.write({"record_ids": ids, "event_count": len(ids)})
        return current

    def _dci_send(self):
        """Job: build the notify envelope from the records as they are now and deliver it."""
        self.ensure_one()
        if self.state != "collecting":
            return f"already {self.state}"
        subscription = self.subscription_id
        impl = self.env["spp.dci.registry"]._dci_implementation(subscription.registry_type)
        records = self.env[self.res_model].browse(self.record_ids or []).exists()
        if impl is None or not records or subscription.state != "subscribe":
            self.write({"state": "cancelled"})
            return "nothing to notify"
        reg_records = impl._dci_serialize(subscription.record_type, records)
        now = utc_now()
        events = []
        for record in reg_records:
            event = {
                "reference_id": str(uuid.uuid4()),
                "timestamp": format_timestamp(now),
                "data": {
                    "version": DCI_VERSION,
                    "reg_type": impl._dci_reg_type_uri,
                    "reg_event_type": self.event_type,
                    "reg_record_type": subscription.record_type,
                    "reg_records": record,
                },
            }
            if subscription.locale:
                event["locale"] = subscription.locale
            events.append(event)
        transaction_id = subscription.transaction_id or str(uuid.uuid4())
        message = NotifyEventRequest.model_validate(
            {"transaction_id": transaction_id, "notify_event": events}
        )
        keys = self.env["spp.dci.signing.key"].sudo()
        our_id = subscription.endpoint_id.dci_sender_id or keys._dci_sender_id()
        header = MsgCallbackHeader(
            message_id=str(uuid.uuid4()),
            message_ts=now,
            action=Action.NOTIFY,
            status=RequestStatus.SUCC,
            total_count=len(events),
            completed_count=len(events),
            sender_id=our_id,
            receiver_id=subscription.sender_id.client_id,
            meta={"subscription_codes": [subscription.code]},
        )
        envelope = build_envelope(header, message, keys._dci_signer(), our_id)
        self.write({"state": "built", "transaction_id": transaction_id, "event_count": len(events)})
        self._dci_queue_delivery(subscription.notify_uri, envelope)
        return f"{len(events)} event(s) queued for delivery"

    @api.autovacuum
    def _gc_old_payloads(self):
        """Drop payloads of notifications older than the retention period (a batch per call)."""
        days = retention.retention_days(
            self.env, retention.NOTIFICATION_DAYS, fallback_key=retention.TRANSACTION_DAYS
        )
        return retention.purge_batch(
            self.sudo(),
            days,
            payloads=("delivery_payload",),
            where=SQL("delivery_state IN ('none', 'sent', 'failed')"),
        )
