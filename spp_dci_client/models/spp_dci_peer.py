# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

from ..client import oauth2


class SppDciPeer(models.Model):
    """The client's side of a peer: the data source(s) through which we query it."""

    _inherit = "spp.dci.peer"

    data_source_ids = fields.One2many(
        "spp.dci.data.source", "peer_id", string="Data Sources", context={"active_test": False}
    )

    def _inverse_dci_secret_fields(self):
        """A new client secret of ours at the peer: drop the tokens cached with the old one."""
        super()._inverse_dci_secret_fields()
        oauth2.TOKEN_CACHE.invalidate()
