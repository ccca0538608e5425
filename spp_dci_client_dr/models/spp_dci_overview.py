# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models


class SppDciOverview(models.Model):
    """The overview, Disability side: the registrants checked last."""

    _inherit = "spp.dci.overview"

    dr_checked_ids = fields.Many2many(
        "res.partner", compute="_compute_dr_checks", string="Last Disability Checks"
    )
    dr_flagged_count = fields.Integer(
        string="With a disability (Disability)", compute="_compute_dr_checks"
    )

    def _compute_dr_checks(self):
        last, flagged = self._dci_last_checked("dr_checked_at", "dr_is_disabled")
        for overview in self:
            overview.dr_checked_ids = last
            overview.dr_flagged_count = flagged
