# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import Action, RequestStatus
from odoo.exceptions import UserError

from ..client.service import records_of

#: The callback action that answers each request action.
CALLBACK_OF = {
    Action.SEARCH.value: Action.ON_SEARCH.value,
    Action.SUBSCRIBE.value: Action.ON_SUBSCRIBE.value,
    Action.UNSUBSCRIBE.value: Action.ON_UNSUBSCRIBE.value,
    Action.TXN_STATUS.value: Action.TXN_ON_STATUS.value,
}
OPEN_STATES = ("pending", "partial")
#: txn_type of a txn-status query about each action (search for the others).
TXN_TYPE_OF = {Action.SUBSCRIBE.value: "subscribe", Action.UNSUBSCRIBE.value: "unsubscribe"}
#: The reason a txn_status item gives when the registry does not know the transaction.
UNKNOWN_TO_REGISTRY = "rjct.reference_id.invalid"


class SppDciClientTransaction(models.Model):
    """An asynchronous request we sent, waiting for (or answered by) its callback.

    Created in its own committed transaction before the request leaves (see
    ``spp.dci.data.source._dci_send_async``), matched by the receiver on
    ``transaction_id`` + ``correlation_id``, expired by a cron after its deadline.
    """

    _name = "spp.dci.client.transaction"
    _description = "DCI Client Pending Transaction"
    _order = "sent_at desc, id desc"
    _rec_name = "transaction_id"

    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, ondelete="cascade", index=True
    )
    registry_type = fields.Selection(related="data_source_id.registry_type")
    action = fields.Selection(
        [
            (Action.SEARCH.value, "Search"),
            (Action.SUBSCRIBE.value, "Subscribe"),
            (Action.UNSUBSCRIBE.value, "Unsubscribe"),
            (Action.TXN_STATUS.value, "Transaction status"),
        ],
        required=True,
    )
    description = fields.Char()
    transaction_id = fields.Char(required=True, index=True, readonly=True)
    correlation_id = fields.Char(
        index=True, readonly=True, help="Set by the registry's ACK (or first callback)."
    )
    ack_status = fields.Selection([("ACK", "ACK"), ("NACK", "NACK"), ("ERR", "ERR")], readonly=True)
    reference_ids = fields.Json(readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("partial", "Partially answered"),
            ("done", "Done"),
            ("rejected", "Rejected"),
            ("error", "Error"),
            ("expired", "Expired"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="pending",
        index=True,
    )
    status_reason = fields.Text(readonly=True)
    user_id = fields.Many2one("res.users", string="Requested By", readonly=True)
    sent_at = fields.Datetime(readonly=True)
    deadline = fields.Datetime(readonly=True, index=True)
    received_at = fields.Datetime(string="Last Callback At", readonly=True)
    completed_at = fields.Datetime(readonly=True)
    callback_count = fields.Integer(readonly=True)
    record_count = fields.Integer(readonly=True, help="Records received in callbacks so far.")
    total_count = fields.Integer(
        readonly=True, help="header.total_count announced by the registry."
    )
    pagination_requested = fields.Boolean(
        readonly=True,
        help="The search asked for one page (search_criteria.pagination): its first "
        "answer completes the transaction. Otherwise a registry may push the pages of "
        "a result as separate on-search callbacks; the transaction waits for all of them.",
    )
    pages_received = fields.Json(
        readonly=True,
        help="Per reference_id of a paginated result: the page numbers received and the "
        "last page ({'pages': [1, 2], 'last': 3}).",
    )

    # Callbacks we refused that named this transaction: a note, never a state change.
    refusal_count = fields.Integer(
        string="Callbacks Refused",
        readonly=True,
        help="Callbacks naming this transaction that our receiver refused (no or a bad "
        "bearer token, a signature that does not verify, another correlation id...). "
        "The transaction keeps waiting: only an accepted callback answers it.",
    )
    last_refusal_at = fields.Datetime(string="Last Refused At", readonly=True)
    last_refusal_reason = fields.Text(string="Why It Was Refused", readonly=True)

    _transaction_id_unique = models.Constraint(
        "UNIQUE(transaction_id)", "Transaction ids are unique."
    )

    def _dci_register_callback(self, action, envelope):
        """Update the transaction from an accepted callback (its receiver checked everything)."""
        self.ensure_one()
        header = envelope.header
        message = envelope.message
        vals = {
            "received_at": fields.Datetime.now(),
            "callback_count": self.callback_count + 1,
        }
        if not self.correlation_id and getattr(message, "correlation_id", None):
            vals["correlation_id"] = message.correlation_id
        complete = True
        rejected = getattr(header, "status", None) == RequestStatus.RJCT
        if action == Action.ON_SEARCH.value and message is not None:
            vals["record_count"] = self.record_count + sum(
                len(records_of(i)) for i in message.search_response
            )
            if not self.pagination_requested:
                vals["pages_received"] = pages = _pages_received(
                    self.pages_received, message.search_response
                )
                complete = all(
                    set(range(1, p["last"] + 1)) <= set(p["pages"]) for p in pages.values()
                )
            if header.total_count is not None:
                vals["total_count"] = header.total_count
                if (
                    header.completed_count is not None
                    and header.completed_count < header.total_count
                ):
                    complete = False
            if message.search_response and all(
                i.status == RequestStatus.RJCT for i in message.search_response
            ):
                rejected = True
        elif action == Action.ON_SUBSCRIBE.value and message is not None:
            self.env["spp.dci.client.subscription"]._dci_from_on_subscribe(self, message)
        elif action == Action.ON_UNSUBSCRIBE.value and message is not None:
            self.env["spp.dci.client.subscription"]._dci_from_on_unsubscribe(self, message)
            rejected = rejected or message.status == RequestStatus.RJCT
        if rejected:
            reason = getattr(header, "status_reason_code", None)
            vals.update(
                state="rejected",
                status_reason=reason.value if reason else "rjct",
                completed_at=vals["received_at"],
            )
        elif complete:
            vals.update(state="done", completed_at=vals["received_at"])
        else:
            vals["state"] = "partial"
        self.write(vals)

    @api.model
    def _dci_note_refusals(self, refusals):
        """Record refused callbacks on the open transactions they name (one search).

        ``refusals``: ``[(transaction_id, action, reason)]``; ``reason`` is our own
        answer (code and message), never text from the caller. Trust rule: a
        transaction_id is a random UUID we sent only to its registry, so naming
        one is no proof of anything; a refused callback only adds this note (and
        tells the requester once), it never changes the state, deadline,
        correlation id or records. Anonymous callers are bounded by the DCI app's
        per-address refusal limit (its 429s are not recorded).
        """
        by_txn = {}
        for transaction_id, action, reason in refusals:
            if isinstance(transaction_id, str) and transaction_id:
                by_txn.setdefault(transaction_id, []).append((action, reason))
        if not by_txn:
            return self.browse()
        transactions = self.search(
            [("transaction_id", "in", list(by_txn)), ("state", "in", OPEN_STATES)]
        )
        now = fields.Datetime.now()
        for transaction in transactions:
            notes = [
                (action, reason)
                for action, reason in by_txn[transaction.transaction_id]
                if action == CALLBACK_OF.get(transaction.action)
            ]
            if not notes:
                continue
            first = not transaction.refusal_count
            transaction.write(
                {
                    "refusal_count": transaction.refusal_count + len(notes),
                    "last_refusal_at": now,
                    "last_refusal_reason": notes[-1][1],
                }
            )
            if first and transaction.user_id:
                transaction._dci_tell_requester(notes[-1][1])
        return transactions

    def _dci_tell_requester(self, reason):
        """A sticky notice on the requester's screen: their answer was refused at our door."""
        self.user_id._bus_send(
            "simple_notification",
            {
                "type": "warning",
                "sticky": True,
                "title": self.env._("A callback from %s was refused", self.data_source_id.name),
                "message": self.env._(
                    "The answer to %(what)s (transaction %(txn)s) came back and was refused: "
                    "%(reason)s. The request keeps waiting until its deadline; see DCI > "
                    "Client > Pending Transactions, and ask an administrator to check how "
                    "the registry authenticates its callbacks.",
                    what=self.description or self.action,
                    txn=self.transaction_id,
                    reason=reason,
                ),
            },
        )

    @api.model
    def _cron_expire(self):
        """Pending transactions past their deadline expire (no callback will be accepted)."""
        expired = self.search(
            [("state", "in", OPEN_STATES), ("deadline", "<", fields.Datetime.now())]
        )
        refused = expired.filtered("refusal_count")
        values = {"state": "expired", "completed_at": fields.Datetime.now()}
        (expired - refused).write({**values, "status_reason": "No callback before the deadline."})
        for transaction in refused:  # say why the answer never got in
            transaction.write(
                {
                    **values,
                    "status_reason": f"No accepted callback before the deadline: "
                    f"{transaction.refusal_count} refused, the last one because "
                    f"{transaction.last_refusal_reason}",
                }
            )

    def action_cancel(self):
        self.filtered(lambda t: t.state in OPEN_STATES).write(
            {"state": "cancelled", "completed_at": fields.Datetime.now()}
        )
        return True

    @api.model
    def _dci_registry_status(self, source, action, transaction_id):
        """``/registry/sync/txn/status`` about one of our transactions: its ``txn_status``."""
        result = source._dci_sync_txn_status(
            transaction_id, txn_type=TXN_TYPE_OF.get(action, "search")
        )
        return result.message.txnstatus_response.txn_status

    @api.model
    def _dci_status_summary(self, status):
        """``(states, correlation_id)`` of a ``txn_status``: ``"pdng"``, ``"rjct, succ"``...

        ``correlation_id`` is None when the registry does not know the transaction.
        """
        items = (
            getattr(status, "search_response", None)
            or getattr(status, "subscribe_response", None)
            or []
        )
        values = {item.status.value for item in items}
        if not items and getattr(status, "status", None) is not None:
            values = {status.status.value}
        reasons = {str(getattr(item, "status_reason_code", None) or "") for item in items}
        known = not items or reasons != {UNKNOWN_TO_REGISTRY}
        correlation_id = getattr(status, "correlation_id", None) if known else None
        return ", ".join(sorted(values)) or "-", correlation_id

    @api.model
    def _dci_reconcile_resent(self, source, txn_id, action, transaction_id, error):
        """After a timeout the registry refused our re-send as a duplicate: it has the request.

        The transaction stays pending (its callback completes it, or the deadline
        expires it); the registry's txn status gives the correlation_id the lost ACK
        carried, so that the callback is matched. Written like every pending
        transaction, in its own committed transaction.
        """
        reason = str(error)
        correlation_id = None
        try:
            status = self._dci_registry_status(source, action, transaction_id)
        except UserError as exc:  # the txn status is optional (dr has none): stay pending
            reason += f" Its txn status could not be read: {exc}"
        else:
            states, correlation_id = self._dci_status_summary(status)
            reason += f" Registry txn status: {states}."
        source._dci_independent_write(
            self._name, txn_id, {"status_reason": reason}, only_if=[("state", "in", OPEN_STATES)]
        )
        if correlation_id:
            source._dci_independent_write(
                self._name,
                txn_id,
                {"correlation_id": correlation_id},
                only_if=[("correlation_id", "=", False)],
            )
        return {
            "id": txn_id,
            "transaction_id": transaction_id,
            "correlation_id": correlation_id,
            "ack_status": None,
        }

    def action_check_status(self):
        """Ask the registry (``/registry/sync/txn/status``) about this transaction."""
        self.ensure_one()
        status = self._dci_registry_status(self.data_source_id, self.action, self.transaction_id)
        states, _correlation_id = self._dci_status_summary(status)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Status at the registry"),
                "message": self.env._(
                    "Transaction %(txn)s: %(states)s", txn=self.transaction_id, states=states
                ),
                "type": "info",
            },
        }


def _pages_received(received, items):
    """``pages_received`` once ``items`` (on-search items) are added to ``received``.

    An item with ``pagination`` is one page of ``ceil(total_count / page_size)``
    (at least 1); an item without it, or rejected, is its whole answer.
    """
    pages = {
        ref: {"pages": list(p["pages"]), "last": p["last"]} for ref, p in (received or {}).items()
    }
    for item in items:
        pagination = item.pagination
        if pagination is None or item.status == RequestStatus.RJCT:
            last, number = 1, 1
        else:
            size, total = int(pagination.page_size), int(pagination.total_count)
            last, number = max(1, -(-total // size)), int(pagination.page_number)
        entry = pages.setdefault(str(item.reference_id), {"pages": [], "last": last})
        entry["last"] = last
        if number not in entry["pages"]:
            entry["pages"] = sorted([*entry["pages"], number])
    return pages
