from odoo import fields, models


class SppDciPeer(models.Model):
    """The server's side of a peer: its sender record (what it may do on our registry)."""

    _inherit = "spp.dci.peer"

    sender_ids = fields.One2many(
        "spp.dci.sender", "peer_id", string="Sender", context={"active_test": False}
    )
