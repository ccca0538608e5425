# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models


class SppDciOverview(models.Model):
    """The overview, IBR side: the registrants checked last."""

    _inherit = "spp.dci.overview"

    ibr_checked_ids = fields.Many2many(
        "res.partner", compute="_compute_ibr_checks", string="Last IBR Checks"
    )
    ibr_flagged_count = fields.Integer(
        string="Enrolled elsewhere (IBR)", compute="_compute_ibr_checks"
    )

    def _compute_ibr_checks(self):
        last, flagged = self._dci_last_checked("ibr_checked_at", "ibr_is_enrolled")
        for overview in self:
            overview.ibr_checked_ids = last
            overview.ibr_flagged_count = flagged
