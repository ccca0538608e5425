# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

#: Imports listed on the overview.
LAST_IMPORTS = 10


class SppDciOverview(models.Model):
    """The overview, CRVS side: the last imports of births and deaths."""

    _inherit = "spp.dci.overview"

    crvs_import_ids = fields.Many2many(
        "spp.dci.crvs.import", compute="_compute_crvs_imports", string="Last CRVS Imports"
    )
    crvs_imports_failed = fields.Integer(
        string="CRVS imports failed", compute="_compute_crvs_imports"
    )
    crvs_imports_running = fields.Integer(
        string="CRVS imports running", compute="_compute_crvs_imports"
    )

    def _compute_crvs_imports(self):
        Import = self.env["spp.dci.crvs.import"]
        last = Import.search([], limit=LAST_IMPORTS)
        states = dict(Import._read_group([], ["state"], ["__count"]))
        for overview in self:
            overview.crvs_import_ids = last
            overview.crvs_imports_failed = states.get("failed", 0)
            overview.crvs_imports_running = states.get("running", 0)
