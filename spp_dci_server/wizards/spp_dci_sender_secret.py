from odoo import api, fields, models


class SppDciSenderSecret(models.TransientModel):
    """Shows a freshly generated client secret once (it is not stored in clear)."""

    _name = "spp.dci.sender.secret"
    _description = "DCI Sender Client Secret (shown once)"

    sender_id = fields.Many2one("spp.dci.sender", readonly=True)
    client_id = fields.Char(related="sender_id.client_id")
    client_secret = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        # The secret reaches the browser through the action context only; never store it.
        for vals in vals_list:
            vals.pop("client_secret", None)
        return super().create(vals_list)
