"""Requests this registry served and refused, for graph and pivot views (read only).

A database view over ``spp_dci_transaction``: one row per request received,
with its day and its outcome in a programme officer's words. No stored copy:
the counts are always those of the transactions themselves. Periods filter on
``received_at`` (the indexed ``create_date``, UTC), so "today" and "7 days" read
only their rows.
"""

from odoo import fields, models
from odoo.tools import SQL

from .spp_dci_transaction import ACTIONS

OUTCOMES = [
    ("served", "Served"),
    ("refused", "Refused"),
    ("failed", "Failed"),
    ("in_progress", "In progress"),
]
CALLBACK_STATES = [
    ("none", "Not needed"),
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]


class SppDciRequestReport(models.Model):
    _name = "spp.dci.request.report"
    _description = "DCI Requests Served (report)"
    _auto = False
    _order = "id desc"  # ids grow with time; sorts on the primary key, not on the whole view
    _rec_name = "day"

    day = fields.Date(readonly=True)
    received_at = fields.Datetime(readonly=True)
    sender_id = fields.Many2one("spp.dci.sender", readonly=True)
    registry_type = fields.Char(readonly=True)
    action = fields.Selection(ACTIONS, readonly=True)
    mode = fields.Selection([("sync", "Synchronous"), ("async", "Asynchronous")], readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    status_reason_code = fields.Char(string="Reason", readonly=True)
    callback_state = fields.Selection(CALLBACK_STATES, readonly=True)
    item_count = fields.Integer(string="Items", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True, aggregator="avg")

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(view)s AS (
                    SELECT t.id,
                           t.create_date::date AS day,
                           t.create_date AS received_at,
                           t.sender_id,
                           t.registry_type,
                           t.action,
                           t.mode,
                           CASE t.state WHEN 'done' THEN 'served'
                                        WHEN 'rejected' THEN 'refused'
                                        WHEN 'failed' THEN 'failed'
                                        ELSE 'in_progress' END AS outcome,
                           t.status_reason_code,
                           CASE WHEN t.delivery_state IN ('queued', 'retrying') THEN 'pending'
                                ELSE t.delivery_state END AS callback_state,
                           t.item_count,
                           t.duration_ms
                      FROM spp_dci_transaction t
                )
                """,
                view=SQL.identifier(self._table),
            )
        )
