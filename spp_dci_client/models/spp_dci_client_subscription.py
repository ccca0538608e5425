# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import RequestStatus, SubscriptionStatus


class SppDciClientSubscription(models.Model):
    """A subscription we hold at an external registry (from its ``on-subscribe``).

    ``notify`` callbacks from a data source are accepted only while it has at
    least one active subscription (a DCI notify carries no subscription code).
    """

    _name = "spp.dci.client.subscription"
    _description = "DCI Client Subscription"
    _order = "subscribed_at desc, id desc"
    _rec_name = "code"

    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, ondelete="cascade", index=True
    )
    transaction_id = fields.Many2one(
        "spp.dci.client.transaction", string="Subscribe Transaction", readonly=True
    )
    code = fields.Char(
        required=True, index=True, readonly=True, help="The registry's subscription code."
    )
    state = fields.Selection(
        [("active", "Active"), ("unsubscribing", "Unsubscribing"), ("cancelled", "Unsubscribed")],
        required=True,
        default="active",
        index=True,
    )
    reg_event_type = fields.Char(readonly=True)
    notify_record_type = fields.Char(readonly=True)
    filter = fields.Json(readonly=True)
    subscribed_at = fields.Datetime(readonly=True)
    unsubscribed_at = fields.Datetime(readonly=True)
    last_notify_at = fields.Datetime(readonly=True)
    notify_count = fields.Integer(readonly=True)

    _code_unique = models.Constraint(
        "UNIQUE(data_source_id, code)", "Subscription codes are unique per registry."
    )

    @api.model
    def _dci_from_on_subscribe(self, transaction, message):
        """Record the subscriptions an accepted ``on-subscribe`` confirms."""
        now = fields.Datetime.now()
        existing = self.search([("data_source_id", "=", transaction.data_source_id.id)])
        by_code = {sub.code: sub for sub in existing}
        vals_list = []
        for item in message.subscribe_response:
            if item.status != RequestStatus.SUCC:
                continue
            for info in item.subscriptions or []:
                vals = {
                    "state": "active"
                    if info.status == SubscriptionStatus.SUBSCRIBE
                    else "cancelled",
                    "reg_event_type": info.reg_event_type,
                    "notify_record_type": info.notify_record_type,
                    "filter": info.to_json().get("filter"),
                    "subscribed_at": now,
                    "transaction_id": transaction.id,
                }
                if info.code in by_code:
                    by_code[info.code].write(vals)
                else:
                    vals_list.append(
                        {**vals, "data_source_id": transaction.data_source_id.id, "code": info.code}
                    )
        return self.create(vals_list)

    @api.model
    def _dci_from_on_unsubscribe(self, transaction, message):
        """Close the subscriptions an accepted ``on-unsubscribe`` reports as unsubscribed."""
        codes = [
            s.code
            for s in message.subscription_status or []
            if s.status == SubscriptionStatus.UNSUBSCRIBE
        ]
        if not codes and message.status == RequestStatus.SUCC:
            codes = list(transaction.reference_ids or [])
        subs = self.search(
            [("data_source_id", "=", transaction.data_source_id.id), ("code", "in", codes)]
        )
        subs.write({"state": "cancelled", "unsubscribed_at": fields.Datetime.now()})
        return subs

    def _dci_register_notify(self):
        self.write({"last_notify_at": fields.Datetime.now()})
        for sub in self:
            sub.notify_count += 1

    def action_unsubscribe(self):
        for source in self.filtered(lambda s: s.state == "active").data_source_id:
            subs = self.filtered(
                lambda s, src=source: s.data_source_id == src and s.state == "active"
            )
            source._dci_unsubscribe(subs.mapped("code"))
            subs.write({"state": "unsubscribing"})
        return True
