"""The DCI overview a programme officer opens first: one record, computed on read.

Each addon adds what it knows (``_inherit = "spp.dci.overview"``): the server
its requests and callbacks, the client its data sources and their last
connection test, the CRVS addon its last imports, the IBR and DR addons their
last checks. Counting happens in SQL (``search_count``/``_read_group``), so the
overview costs a few queries whatever the size of the tables.
"""

from datetime import timedelta

from odoo import api, fields, models

#: How far back "recent" reaches for the failure counts.
RECENT_DAYS = 7


class SppDciOverview(models.Model):
    _name = "spp.dci.overview"
    _description = "DCI Overview"

    name = fields.Char(default="DCI overview", required=True)
    # -- requests this registry served (server) --
    served_today = fields.Integer(compute="_compute_server_counts")
    refused_today = fields.Integer(compute="_compute_server_counts")
    failed_today = fields.Integer(compute="_compute_server_counts")
    served_week = fields.Integer(string="Served (7 days)", compute="_compute_server_counts")
    refused_week = fields.Integer(string="Refused (7 days)", compute="_compute_server_counts")
    callbacks_pending = fields.Integer(compute="_compute_server_counts")
    callbacks_failed = fields.Integer(compute="_compute_server_counts")
    notifications_failed = fields.Integer(compute="_compute_server_counts")
    request_ids = fields.Many2many(
        "spp.dci.request.report", compute="_compute_request_ids", string="Last Requests"
    )

    @api.model
    def _dci_since(self, days):
        """UTC midnight ``days`` days ago (0: today)."""
        today = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=days)

    def _compute_server_counts(self):
        Report = self.env["spp.dci.request.report"]
        today, week = self._dci_since(0), self._dci_since(RECENT_DAYS - 1)
        counts = {
            (outcome, period): count
            for period, since in (("today", today), ("week", week))
            for outcome, count in Report._read_group(
                [("received_at", ">=", since)], ["outcome"], ["__count"]
            )
        }
        callbacks = dict(
            Report._read_group(
                [("callback_state", "in", ("pending", "failed"))], ["callback_state"], ["__count"]
            )
        )
        failed_notifications = self.env["spp.dci.notification"].search_count(
            [("delivery_state", "=", "failed")]
        )
        for overview in self:
            overview.served_today = counts.get(("served", "today"), 0)
            overview.refused_today = counts.get(("refused", "today"), 0)
            overview.failed_today = counts.get(("failed", "today"), 0)
            overview.served_week = counts.get(("served", "week"), 0)
            overview.refused_week = counts.get(("refused", "week"), 0)
            overview.callbacks_pending = callbacks.get("pending", 0)
            overview.callbacks_failed = callbacks.get("failed", 0)
            overview.notifications_failed = failed_notifications

    def _compute_request_ids(self):
        last = self.env["spp.dci.request.report"].search([], limit=10)
        for overview in self:
            overview.request_ids = last

    @api.model
    def action_open_overview(self):
        """The overview record (made on first use if its data record was deleted)."""
        overview = self.env.ref("spp_dci_server.dci_overview", raise_if_not_found=False)
        if not overview:
            overview = self.sudo().create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("DCI Overview"),
            "res_model": self._name,
            "res_id": overview.id,
            "view_mode": "form",
            "target": "current",
        }
