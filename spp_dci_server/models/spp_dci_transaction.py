import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..services import async_batch, retention
from ..services.txn_status import txn_status_of
from .json_text import json_text_field

_logger = logging.getLogger(__name__)

ACTIONS = [
    ("search", "Search"),
    ("subscribe", "Subscribe"),
    ("unsubscribe", "Unsubscribe"),
    ("txn-status", "Transaction Status"),
]
PAYLOADS = ("request_payload", "response_payload", "delivery_payload")
STATES = [
    ("received", "Received"),
    ("done", "Done"),
    ("rejected", "Rejected"),
    ("failed", "Failed"),
]


class SppDciTransaction(models.Model):
    """One DCI request received by our registry (sync or async) and what we answered.

    ``correlation_id`` is ours (unique, sent in the ACK and the callback);
    ``transaction_id`` and ``message_id`` are the caller's. A sender cannot
    reuse a ``message_id`` for another request (``rjct.message_id.duplicate``):
    the unique index covers every accepted message; rejected ones do not take
    the id. An identical re-send (same path and ``request_digest``) is answered
    from the first row and writes nothing (``services/transactions.py``).
    """

    _name = "spp.dci.transaction"
    _description = "DCI Server Transaction"
    _inherit = ["spp.dci.delivery.mixin"]
    _order = "id desc"
    _rec_name = "correlation_id"

    endpoint_id = fields.Many2one(
        "fastapi.endpoint", readonly=True, ondelete="set null", index=True
    )
    registry_type = fields.Char(readonly=True)
    # no index of its own: (sender_id, create_date) and (sender_id, message_id) lead with it
    sender_id = fields.Many2one("spp.dci.sender", readonly=True, ondelete="restrict")
    action = fields.Selection(ACTIONS, readonly=True, required=True)
    mode = fields.Selection(
        [("sync", "Synchronous"), ("async", "Asynchronous")], readonly=True, required=True
    )
    message_id = fields.Char(readonly=True)
    message_ts = fields.Datetime(string="Message Time", readonly=True)
    transaction_id = fields.Char(readonly=True, index=True)
    correlation_id = fields.Char(readonly=True, required=True)  # indexed by its UNIQUE
    reference_ids = fields.Json(readonly=True, help="reference_id of each request item.")
    item_count = fields.Integer(readonly=True)
    sender_uri = fields.Char(readonly=True)
    signature_state = fields.Selection(
        [("verified", "Verified"), ("unsigned", "Unsigned (policy off)"), ("invalid", "Invalid")],
        readonly=True,
    )
    signature_kid = fields.Char(string="Signature Key", readonly=True)
    state = fields.Selection(STATES, default="received", required=True, readonly=True)
    # the rare values only (partial indexes below): a sync row writes no index entry for them
    delivery_state = fields.Selection(index=False)
    status_reason_code = fields.Char(readonly=True)
    status_reason_message = fields.Char(readonly=True, help="As the caller was told.")
    error_detail = fields.Text(
        readonly=True,
        groups="spp_dci.group_dci_admin",
        help="Traceback of an unexpected processing error (state Failed). The caller only "
        "learns err.service.unavailable.",
    )
    done_at = fields.Datetime(readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    request_digest = fields.Char(
        readonly=True,
        help="SHA-256 of the request's header and message (RFC 8785 form, what the signature "
        "covers): an identical re-send of the message is recognised by it.",
    )
    response_digest = fields.Char(readonly=True, help="SHA-256 of our answer (compact JSON).")
    request_payload = fields.Json(readonly=True, groups="spp_dci.group_dci_admin")
    response_payload = fields.Json(readonly=True, groups="spp_dci.group_dci_admin")
    request_payload_text = json_text_field(
        "request_payload", string="Request Payload (JSON)", groups="spp_dci.group_dci_admin"
    )
    response_payload_text = json_text_field(
        "response_payload", string="Response Payload (JSON)", groups="spp_dci.group_dci_admin"
    )

    _correlation_id_unique = models.Constraint(
        "UNIQUE(correlation_id)", "Correlation ids are unique."
    )
    _message_id_unique = models.UniqueIndex(
        "(sender_id, message_id) WHERE state != 'rejected'",
        "This sender already sent a message with this message_id.",
    )
    # the rate limit counts a sender's rows of the last minute (every worker and node)
    _sender_recent_index = models.Index("(sender_id, create_date)")
    # the overview and the request report count the rows of a period (today, 7 days)
    _create_date_index = models.Index("(create_date)")
    # the batch job claims the received (asynchronous, not yet answered) rows, oldest first
    _received_index = models.Index("(id) WHERE state = 'received'")
    # the list filters of refusals and failures, and of callbacks pending or failed
    _problem_index = models.Index("(id) WHERE state IN ('rejected', 'failed')")
    _delivery_index = models.Index("(id) WHERE delivery_state IN ('queued', 'retrying', 'failed')")
    # the retention purge walks the rows that still hold a payload, oldest first
    _payload_retention_index = models.Index(retention.payload_index(*PAYLOADS))

    @api.depends("action", "correlation_id")
    def _compute_display_name(self):
        for txn in self:
            txn.display_name = f"{txn.action or ''} {txn.correlation_id or ''}".strip()

    @api.model
    def _dci_hand_over(self):
        """The ACK path: commit the request's row, then make sure a batch job answers it.

        The identity key lookup runs in a new snapshot, after the commit: a batch job
        found pending (or enqueued) there has not claimed yet, and claims after this
        commit, so it sees the row; a started one may have claimed before it, so a new
        one is queued, to run ``async_batch.batch_delay`` seconds later (the ACKs of
        that moment find it pending and join it). The lookup is the partial index
        queue_job keeps on identity_key; an ACK of this process that knows the waiting
        job's start is still ahead needs none (``async_batch.known_waiting``).
        """
        cr = self.env.cr
        cr.commit()
        if async_batch.known_waiting(cr.dbname) or async_batch.batch_job_waiting(cr):
            return
        delay = async_batch.batch_delay(self.env)
        start = async_batch.start_after(delay)  # at or before the eta queue_job computes
        self._dci_delay_batch(eta=delay or None)
        if delay:
            async_batch.remember_start(cr, start)

    @api.model
    def _dci_delay_batch(self, eta=None):
        # queue_job's identity_key: a batch job still waiting absorbs the new rows (a
        # follower queued by a full batch runs at once: requests are already waiting)
        return self.with_delay(
            eta=eta,
            channel="root.dci",
            identity_key=async_batch.BATCH_IDENTITY,
            description="DCI: answer queued asynchronous requests",
        )._dci_answer_queued()

    @api.model
    def _dci_answer_queued(self):
        """Job: claim a set of received asynchronous requests, answer them, queue the job
        that sends their callbacks (committed with the answers, see
        ``async_batch.deliver_first_attempts``), and queue the next batch job while
        claimable rows remain."""
        async_batch.forget_start(self.env.cr.dbname)
        size = async_batch.batch_size(self.env)
        txns = self.browse(async_batch.claim(self.env.cr, size))
        counts = async_batch.answer(txns)
        if txns:  # every answer stores a callback (a refusal too)
            txns._dci_delay_first_attempts()
            counts["callbacks"] = "callbacks queued"
        # nothing claimed: every row this job could see is held by a running batch job,
        # which queues the next one itself
        if txns and async_batch.remaining(self.env.cr, txns.ids):
            self._dci_delay_batch()
            counts["more"] = "next batch queued"
        return async_batch.summary(counts)

    def _dci_delay_first_attempts(self):
        return self.with_delay(
            channel="root.dci",
            description=f"DCI: send the callbacks of {len(self)} answered requests",
        )._dci_send_first_attempts()

    def _dci_send_first_attempts(self):
        """Job: the first delivery attempt of these answered requests' callbacks."""
        return async_batch.summary(async_batch.deliver_first_attempts(self), "nothing to send")

    def _dci_delivery_job_methods(self):
        return (*super()._dci_delivery_job_methods(), "_dci_send_first_attempts")

    @api.autovacuum
    def _dci_answer_stranded(self):
        """A server stopped between an ACK's commit and its batch job look-up leaves a
        received request with no batch job: the next async request's batch job claims it,
        and, should none come, this daily pass queues one."""
        cr = self.env.cr
        if async_batch.remaining(cr, []) and not async_batch.batch_job_waiting(cr):
            self.sudo()._dci_delay_batch()
            return True
        return False

    def _dci_process(self):
        """Job of earlier versions (one per request), left in a database: a batch job
        answers the request."""
        self.ensure_one()
        if self.state != "received":
            return f"already {self.state}"
        self._dci_delay_batch()
        return "handed over to the batch job"

    def _dci_txn_status_reply(self):
        """The ``txn_status`` for a txn-status query about this transaction."""
        return txn_status_of(self)

    @api.model
    def _dci_find_for_status(self, sender, txn_type, attribute_type, value):
        """The requester's latest accepted transaction matching a txnstatus_request."""
        action = str(txn_type)
        if attribute_type == "reference_id_list":
            self.flush_model(["sender_id", "action", "state", "reference_ids"])
            self.env.cr.execute(
                "SELECT id FROM spp_dci_transaction WHERE sender_id = %s AND action = %s "
                "AND state != 'rejected' AND reference_ids ?| %s ORDER BY id DESC LIMIT 1",
                (sender.id, action, [str(v) for v in value]),
            )
            return self.browse([row[0] for row in self.env.cr.fetchall()])
        field = {"transaction_id": "transaction_id", "correlation_id": "correlation_id"}.get(
            str(attribute_type)
        )
        if not field:
            return self.browse()
        return self.search(
            [
                ("sender_id", "=", sender.id),
                ("action", "=", action),
                ("state", "!=", "rejected"),
                (field, "=", value),
            ],
            order="id desc",
            limit=1,
        )

    @api.autovacuum
    def _gc_old_transactions(self):
        """Drop payloads of finished transactions older than the retention period.

        One batch per call, oldest first; the autovacuum calls again while some remain.
        """
        return retention.purge_batch(
            self.sudo(),
            retention.retention_days(self.env, retention.TRANSACTION_DAYS),
            payloads=PAYLOADS,
            where=SQL("delivery_state IN ('none', 'sent', 'failed')"),
        )
