# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models


class ResPartner(models.Model):
    """Where a registrant came from: the CRVS import that registered it (its birth)."""

    _inherit = "res.partner"

    crvs_import_id = fields.Many2one(
        "spp.dci.crvs.import",
        string="Registered by CRVS Import",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        groups="spp_dci.group_dci_user",
        help="Empty: registered otherwise (by hand, by another import).",
    )
