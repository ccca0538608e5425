# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

#: Registrants listed on the overview.
LAST_CHECKS = 10


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
        Partner = self.env["res.partner"]
        checked = [("is_registrant", "=", True), ("ibr_checked_at", "!=", False)]
        last = Partner.search(checked, order="ibr_checked_at desc, id desc", limit=LAST_CHECKS)
        flagged = Partner.search_count([*checked, ("ibr_is_enrolled", "=", True)])
        for overview in self:
            overview.ibr_checked_ids = last
            overview.ibr_flagged_count = flagged
