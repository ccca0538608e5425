import logging

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.errors import DCIError

_logger = logging.getLogger(__name__)

#: Key of this transaction's changes in ``cr.precommit.data``:
#: ``{(model, event): {record id: None}}`` (an ordered set per model and event).
CHANGES_KEY = "spp_dci_server.registry_changes"


class SppDciSubscription(models.Model):
    """Registry changes -> subscriptions: collected per transaction, matched after commit."""

    _inherit = "spp.dci.subscription"

    @api.model
    def _dci_on_registry_change(self, model_name, record_ids, event):
        """Note that ``record_ids`` of ``model_name`` changed (``event``) in this transaction.

        Called by registry implementations from their create/write overrides. Nothing
        is matched here, inside the user's transaction: the ids are collected on the
        cursor and, when the transaction commits, one queue job matches all of them
        (:meth:`_dci_match_changes`), so a write costs no subscription query and a
        record changed many times in a transaction is matched once.
        """
        if not record_ids:
            return
        precommit = self.env.cr.precommit
        changes = precommit.data.get(CHANGES_KEY)
        if changes is None:
            changes = precommit.data[CHANGES_KEY] = {}
            precommit.add(self._dci_queue_match)
        changes.setdefault((model_name, event), {}).update(dict.fromkeys(record_ids))

    def _dci_queue_match(self):
        """Precommit hook: one match job for this transaction's changes, if anyone subscribed.

        Runs when the transaction commits (and at a flushing savepoint, for the
        changes made before it); a rolled back transaction queues nothing.
        """
        changes = self.env.cr.precommit.data.pop(CHANGES_KEY, {})
        Subscription = self.sudo()
        pending = [
            [model_name, event, list(ids)]
            for (model_name, event), ids in changes.items()
            if ids
            and Subscription.search_count(
                [
                    ("state", "=", "subscribe"),
                    ("res_model", "=", model_name),
                    ("reg_event_type", "=", event),
                ],
                limit=1,
            )
        ]
        if not pending:
            return
        # the job runs as the DCI server user, not as whoever edited the registry
        Subscription.with_user(self.env.ref("spp_dci_server.user_dci_server")).with_delay(
            channel="root.dci",
            description=f"DCI: match {sum(len(ids) for _m, _e, ids in pending)} "
            "registry change(s) to subscriptions",
        )._dci_match_changes(pending, fields.Datetime.now())
        # precommit hooks run after the main flush: flush what this one wrote
        self.env.flush_all()

    @api.model
    def _dci_match_changes(self, changes, changed_at):
        """Job: queue notifications for the subscriptions that changed records match.

        ``changes`` is ``[[model, event, ids], ...]``, committed at ``changed_at``
        (which decides the frequency window and period). One query per active
        subscription for all the ids; a record matched is added once to the
        subscription's open notification (:meth:`spp.dci.notification._dci_add_events`).
        """
        Subscription = self.sudo()
        Notification = self.env["spp.dci.notification"].sudo()
        changed_at = fields.Datetime.to_datetime(changed_at)
        implementations = {}
        events = 0
        for model_name, event, record_ids in changes:
            subscriptions = Subscription.search(
                [
                    ("state", "=", "subscribe"),
                    ("res_model", "=", model_name),
                    ("reg_event_type", "=", event),
                    "|",
                    ("frequency_start", "=", False),
                    ("frequency_start", "<=", changed_at),
                    "|",
                    ("frequency_end", "=", False),
                    ("frequency_end", ">=", changed_at),
                ]
            )
            for subscription in subscriptions:
                registry_type = subscription.registry_type
                if registry_type not in implementations:
                    impl = self.env["spp.dci.registry"]._dci_implementation(registry_type)
                    implementations[registry_type] = impl and impl.sudo()  # empty recordset
                impl = implementations[registry_type]
                if impl is None:
                    continue
                try:
                    matched = impl._dci_match(
                        subscription.record_type,
                        subscription.filter_type,
                        subscription._dci_parsed_filter(),
                        record_ids,
                    )
                except DCIError as err:
                    _logger.warning(
                        "DCI subscription %s: filter no longer valid: %s", subscription.code, err
                    )
                    continue
                if matched:
                    Notification._dci_add_events(subscription, event, matched, changed_at)
                    events += len(matched)
        return f"{events} event(s) for subscribers"
