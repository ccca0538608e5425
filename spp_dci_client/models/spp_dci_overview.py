# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models
from odoo.addons.spp_dci_server.models.spp_dci_overview import RECENT_DAYS

from .spp_dci_client_transaction import OPEN_STATES

#: Registrants listed per registry check on the overview.
LAST_CHECKS = 10


class SppDciOverview(models.Model):
    """The overview, client side: our requests to other registries and their last test."""

    _inherit = "spp.dci.overview"

    client_waiting = fields.Integer(
        string="Waiting for a callback", compute="_compute_client_counts"
    )
    client_failed_week = fields.Integer(string="Failed (7 days)", compute="_compute_client_counts")
    exchange_problems_today = fields.Integer(
        string="Errors and refusals today", compute="_compute_client_counts"
    )
    data_source_ids = fields.Many2many(
        "spp.dci.data.source", compute="_compute_data_source_ids", string="Data Sources"
    )

    def _dci_last_checked(self, checked_at, flagged):
        """The registrants a registry check (IBR, DR...) saw last, and how many it flagged.

        ``checked_at``: the registrant's field of the check's time; ``flagged``:
        its boolean field of what the check reports (enrolled elsewhere, disabled).
        """
        Partner = self.env["res.partner"]
        checked = [("is_registrant", "=", True), (checked_at, "!=", False)]
        last = Partner.search(checked, order=f"{checked_at} desc, id desc", limit=LAST_CHECKS)
        return last, Partner.search_count([*checked, (flagged, "=", True)])

    def _compute_client_counts(self):
        Transaction = self.env["spp.dci.client.transaction"]
        waiting = Transaction.search_count([("state", "in", OPEN_STATES)])
        failed = Transaction.search_count(
            [
                ("state", "in", ("rejected", "error", "expired")),
                ("sent_at", ">=", self._dci_since(RECENT_DAYS - 1)),
            ]
        )
        problems = self.env["spp.dci.client.exchange.log"].search_count(
            [("status", "!=", "ok"), ("exchange_time", ">=", self._dci_since(0))]
        )
        for overview in self:
            overview.client_waiting = waiting
            overview.client_failed_week = failed
            overview.exchange_problems_today = problems

    def _compute_data_source_ids(self):
        sources = self.env["spp.dci.data.source"].search([])
        for overview in self:
            overview.data_source_ids = sources
