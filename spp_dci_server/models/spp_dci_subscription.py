import uuid
from datetime import UTC, timedelta

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import (
    QueryType,
    SubscribeStatusReasonCode,
    SubscriptionStatus,
    UnSubscribeStatusReasonCode,
)
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.frequency import CronError, parse_cron, to_utc
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.addons.spp_dci.dci.schemas.search import ExpressionQuery
from odoo.addons.spp_dci.dci.schemas.subscribe import SubscribeCriteria

from ..services.callbacks import check_callback_url
from ..services.paths import notify_url
from .json_text import json_text_field

#: Event types a subscription may ask for (the social NotifyEventRequest enum).
EVENT_TYPES = [
    ("REGISTER", "Registration (created or changed)"),
    ("NewHouseHoldMember", "New household member"),
]


def _query_type_of(filter_value):
    """The query type of a parsed filter sent without ``filter_type`` (by its shape)."""
    if isinstance(filter_value, list):
        return QueryType.PREDICATE
    if isinstance(filter_value, ExpressionQuery):
        return QueryType.EXPRESSION
    return QueryType.IDTYPE_VALUE


class SppDciSubscription(models.Model):
    """A sender's standing query: matching registry changes are notified to it."""

    _name = "spp.dci.subscription"
    _description = "DCI Subscription"
    _order = "id desc"
    _rec_name = "code"

    code = fields.Char(
        string="Subscription Code", required=True, readonly=True, index=True, copy=False
    )
    sender_id = fields.Many2one(
        "spp.dci.sender", required=True, readonly=True, ondelete="cascade", index=True
    )
    endpoint_id = fields.Many2one("fastapi.endpoint", readonly=True, ondelete="set null")
    registry_type = fields.Char(readonly=True, required=True, index=True)
    res_model = fields.Char(string="Model", readonly=True, required=True, index=True)
    request_transaction_id = fields.Many2one(
        "spp.dci.transaction", string="Subscribe Transaction", readonly=True
    )
    transaction_id = fields.Char(string="Caller Transaction ID", readonly=True)
    reference_id = fields.Char(readonly=True)
    reg_event_type = fields.Selection(
        EVENT_TYPES, string="Event Type", required=True, readonly=True
    )
    record_type = fields.Char(
        readonly=True, required=True, help="Record type notified (Person, Group, Member)."
    )
    notify_record_type = fields.Char(
        readonly=True, help="notify_record_type as the subscriber sent it."
    )
    filter_type = fields.Char(readonly=True)
    filter = fields.Json(readonly=True)
    filter_text = json_text_field("filter", string="Filter (JSON)")
    frequency_start = fields.Datetime(readonly=True)
    frequency_end = fields.Datetime(readonly=True)
    frequency = fields.Char(string="Frequency (cron)", readonly=True)
    locale = fields.Char(readonly=True)
    notify_uri = fields.Char(string="Notify URI", readonly=True)
    state = fields.Selection(
        [("subscribe", "Subscribed"), ("unsubscribe", "Unsubscribed")],
        default="subscribe",
        required=True,
        readonly=True,
        index=True,
    )
    subscribed_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    unsubscribed_at = fields.Datetime(readonly=True)
    notification_ids = fields.One2many("spp.dci.notification", "subscription_id", readonly=True)
    notification_count = fields.Integer(compute="_compute_notification_count")

    _code_unique = models.Constraint("UNIQUE(code)", "Subscription codes are unique.")

    def _compute_notification_count(self):
        counts = dict(
            self.env["spp.dci.notification"]._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.notification_count = counts.get(subscription, 0)

    # --- subscribe / unsubscribe ---------------------------------------------------------

    @api.model
    def _dci_create_from_request(self, txn, item, impl):
        """Create the subscription of one subscribe_request item; raises DCIError."""
        criteria: SubscribeCriteria = item.subscribe_criteria
        event = criteria.reg_event_type.rsplit(":", 1)[-1]
        if event not in dict(EVENT_TYPES):
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_TYPES_INVALID,
                f"reg_event_type must be one of {', '.join(dict(EVENT_TYPES))}",
            )
        try:
            record_type = impl._dci_normalise_record_type(criteria.notify_record_type)
            query_type = criteria.filter_type or _query_type_of(criteria.filter)
            if query_type == QueryType.GRAPHQL:
                raise DCIError(
                    SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                    "graphql filters are not supported",
                )
            spec, _domain = impl._dci_domain(query_type, criteria.filter, record_type=record_type)
        except DCIError as err:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID, f"{err.code}: {err.message}"
            ) from None
        sender = txn.sender_id
        notify_uri = self._dci_notify_uri(sender, txn.sender_uri)
        filter_json = item.model_dump(mode="json", by_alias=True, exclude_none=True)[
            "subscribe_criteria"
        ]["filter"]
        candidates = self.search(
            [
                ("sender_id", "=", sender.id),
                ("registry_type", "=", txn.registry_type),
                ("state", "=", "subscribe"),
                ("reg_event_type", "=", event),
                ("record_type", "=", spec.name),
                ("filter_type", "=", str(query_type)),
            ]
        )
        if any(candidate.filter == filter_json for candidate in candidates):
            raise DCIError(
                SubscribeStatusReasonCode.EVENT_ALREADY_SUBSCRIBED,
                "an identical subscription exists",
            )
        frequency_values = self._dci_frequency_values(criteria.frequency)
        self._dci_check_cap(sender)
        return self.create(
            {
                "code": str(uuid.uuid4()),
                "sender_id": sender.id,
                "endpoint_id": txn.endpoint_id.id,
                "registry_type": txn.registry_type,
                "res_model": spec.model,
                "request_transaction_id": txn.id,
                "transaction_id": txn.transaction_id,
                "reference_id": item.reference_id,
                "reg_event_type": event,
                "record_type": spec.name,
                "notify_record_type": criteria.notify_record_type,
                "filter_type": str(query_type),
                "filter": filter_json,
                **frequency_values,
                "locale": item.locale,
                "notify_uri": notify_uri,
            }
        )

    @api.model
    def _dci_check_cap(self, sender):
        """Refuse a subscription over the sender's cap (``max_subscriptions``, 0: none)."""
        cap = sender.max_subscriptions
        if not cap:
            return
        active = self.search_count(
            [("sender_id", "=", sender.id), ("state", "=", "subscribe")], limit=cap
        )
        if active >= cap:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                f"subscription limit reached: this sender may hold {cap} active "
                "subscriptions; unsubscribe some first",
            )

    @api.model
    def _dci_notify_uri(self, sender, sender_uri):
        uri = notify_url(sender.notify_uri, sender_uri, sender.callback_base_url)
        if not uri:  # refused up front (checks.check_request); the sender may have changed since
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                "no notify URI: the sender has neither a notify URI nor a default callback "
                "URL configured and sender_uri does not end with /on-subscribe",
            )
        try:
            return check_callback_url(
                uri,
                sender.callback_hosts,
                sender._dci_allows_private_callbacks(),
                field="notify URI",
            )
        except DCIError as err:
            raise DCIError(SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID, err.message) from None

    def _dci_info(self):
        """``SubscriptionInfo`` of this subscription."""
        self.ensure_one()
        info = {
            "code": self.code,
            "status": self.state,
            "timestamp": _utc(self.subscribed_at or self.create_date),
            "reg_type": self.env["spp.dci.registry"]
            ._dci_implementation(self.registry_type)
            ._dci_reg_type_uri,
            "reg_event_type": self.reg_event_type,
            "filter_type": self.filter_type,
            "filter": self.filter,
            "notify_record_type": self.notify_record_type or self.record_type,
        }
        if self.frequency:
            info["frequency"] = {
                "start_time": _utc(self.frequency_start),
                "end_time": _utc(self.frequency_end),
                "frequency": self.frequency,
            }
        if self.locale:
            info["locale"] = self.locale
        return info

    @api.model
    def _dci_unsubscribe(self, sender, codes):
        """Unsubscribe all ``codes`` of ``sender`` or none (raises DCIError)."""
        found = self.search([("code", "in", list(codes))])
        by_code = {s.code: s for s in found}
        for code in codes:
            subscription = by_code.get(code)
            if not subscription:
                raise DCIError(
                    UnSubscribeStatusReasonCode.SUBSCRIPTION_CODE_INVALID,
                    f"unknown subscription {code}",
                )
            if subscription.sender_id != sender:
                raise DCIError(
                    UnSubscribeStatusReasonCode.REQUESTER_INVALID,
                    f"subscription {code} is not yours",
                )
            if subscription.state == SubscriptionStatus.UNSUBSCRIBE:
                raise DCIError(
                    UnSubscribeStatusReasonCode.EVENT_ALREADY_UNSUBSCRIBED,
                    f"subscription {code} is already ended",
                )
        found.write({"state": "unsubscribe", "unsubscribed_at": fields.Datetime.now()})
        return found

    # --- frequency ---------------------------------------------------------------------

    @api.model
    def _dci_frequency_values(self, frequency):
        """The stored form of an ``EventFrequency`` (window in UTC); raises DCIError."""
        if frequency is None:
            return {"frequency_start": False, "frequency_end": False, "frequency": False}
        start, end = to_utc(frequency.start_time), to_utc(frequency.end_time)
        if end <= start:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                "frequency.end_time must be after frequency.start_time",
            )
        now = fields.Datetime.now()
        if end <= now:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                "frequency.end_time is in the past: the subscription would never notify",
            )
        try:
            schedule = parse_cron(frequency.frequency)
        except CronError as err:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID, f"frequency.frequency: {err}"
            ) from None
        first = schedule.next_after(max(start, now) - timedelta(seconds=1))
        if first is None or first > end:
            raise DCIError(
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
                f"frequency.frequency {frequency.frequency!r} does not fire between "
                "start_time and end_time (cron expressions are evaluated in UTC)",
            )
        return {"frequency_start": start, "frequency_end": end, "frequency": frequency.frequency}

    def _dci_next_delivery(self, changed_at):
        """When changes made at ``changed_at`` are due: the next fire time of the
        frequency (naive UTC), or None for a subscription without frequency."""
        self.ensure_one()
        if not self.frequency:
            return None
        try:
            schedule = parse_cron(self.frequency)
        except CronError:  # validated on subscribe; an edited value: notify at once
            return changed_at
        return schedule.next_after(changed_at) or self.frequency_end

    def _dci_parsed_filter(self):
        """The stored filter parsed back into the schema's query objects."""
        self.ensure_one()
        criteria = SubscribeCriteria.model_validate(
            {
                "reg_event_type": self.reg_event_type,
                "filter_type": self.filter_type,
                "filter": self.filter,
                "notify_record_type": self.record_type,
            }
        )
        return criteria.filter

    def action_unsubscribe(self):
        self.filtered(lambda s: s.state == "subscribe").write(
            {"state": "unsubscribe", "unsubscribed_at": fields.Datetime.now()}
        )


def _utc(value):
    return format_timestamp(value.replace(tzinfo=UTC))
