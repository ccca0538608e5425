# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

#: Registrants listed on the overview.
LAST_CHECKS = 10


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
        Partner = self.env["res.partner"]
        checked = [("is_registrant", "=", True), ("dr_checked_at", "!=", False)]
        last = Partner.search(checked, order="dr_checked_at desc, id desc", limit=LAST_CHECKS)
        flagged = Partner.search_count([*checked, ("dr_is_disabled", "=", True)])
        for overview in self:
            overview.dr_checked_ids = last
            overview.dr_flagged_count = flagged
