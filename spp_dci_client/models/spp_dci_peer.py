# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models


class SppDciPeer(models.Model):
    """The client's side of a peer: the data source(s) through which we query it."""

    _inherit = "spp.dci.peer"

    data_source_ids = fields.One2many(
        "spp.dci.data.source", "peer_id", string="Data Sources", context={"active_test": False}
    )
