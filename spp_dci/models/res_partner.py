from odoo import api, fields, models

SEX = [("male", "Male"), ("female", "Female"), ("other", "Other"), ("unknown", "Unknown")]


class ResPartner(models.Model):
    """Registrant fields: an individual or a group (household) of the registry."""

    _inherit = "res.partner"

    is_registrant = fields.Boolean(index=True, help="Part of the social registry.")
    is_group = fields.Boolean(index=True, help="A group (household) rather than an individual.")
    given_name = fields.Char()
    family_name = fields.Char(index=True)
    addl_name = fields.Char(string="Additional Name")
    birthdate = fields.Date(index=True)
    sex = fields.Selection(SEX, help="DCI SexCategoryEnum.")
    death_date = fields.Date()
    registration_date = fields.Date(default=fields.Date.context_today)
    registry_id_ids = fields.One2many("spp.registry.id", "partner_id", string="Identifiers")
    group_membership_ids = fields.One2many("spp.group.membership", "group_id", string="Members")
    individual_membership_ids = fields.One2many(
        "spp.group.membership", "individual_id", string="Group Memberships"
    )

    @api.onchange("given_name", "family_name", "addl_name")
    def _onchange_registrant_name(self):
        if self.is_registrant and not self.is_group:
            self.name = self._compose_registrant_name(
                self.given_name, self.addl_name, self.family_name
            )

    @api.model
    def _compose_registrant_name(self, given, addl, family):
        return " ".join(part for part in (given, addl, family) if part)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("is_registrant") and not vals.get("is_group") and not vals.get("name"):
                vals["name"] = self._compose_registrant_name(
                    vals.get("given_name"), vals.get("addl_name"), vals.get("family_name")
                )
        return super().create(vals_list)
