from odoo import api, fields, models


class SppRegistryId(models.Model):
    """One identifier of a registrant: (type, value) is unique across the registry."""

    _name = "spp.registry.id"
    _description = "Registrant Identifier"
    _order = "id_type_id, value"
    _rec_name = "value"

    partner_id = fields.Many2one(
        "res.partner",
        string="Registrant",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("is_registrant", "=", True)],
    )
    id_type_id = fields.Many2one("spp.id.type", string="Type", required=True, ondelete="restrict")
    id_type_code = fields.Char(related="id_type_id.code", string="Type Code")
    value = fields.Char(required=True)
    issued_on = fields.Date()
    expires_on = fields.Date()

    # The unique constraint's index (id_type_id, value) serves idtype-value lookups.
    _type_value_unique = models.Constraint(
        "UNIQUE(id_type_id, value)",
        "This identifier is already registered for another registrant.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("value"):
                vals["value"] = vals["value"].strip()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("value"):
            vals["value"] = vals["value"].strip()
        return super().write(vals)
