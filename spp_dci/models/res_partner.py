from odoo import api, fields, models

SEX = [("male", "Male"), ("female", "Female"), ("other", "Other"), ("unknown", "Unknown")]
#: The parts an individual's display name (``name``) is composed of, in order.
NAME_PARTS = ("given_name", "addl_name", "family_name")


def _is_current(membership):
    return not membership.end_date or membership.end_date > fields.Date.today()


class ResPartner(models.Model):
    """Registrant fields: an individual or a group (household) of the registry."""

    _inherit = "res.partner"

    is_registrant = fields.Boolean(index=True, help="Part of the social registry.")
    is_group = fields.Boolean(index=True, help="A group (household) rather than an individual.")
    given_name = fields.Char(tracking=True)
    family_name = fields.Char(index=True, tracking=True)
    addl_name = fields.Char(string="Additional Name", tracking=True)
    birthdate = fields.Date(index=True, tracking=True)
    sex = fields.Selection(SEX, help="DCI SexCategoryEnum.", tracking=True)
    death_date = fields.Date(tracking=True)
    registration_date = fields.Date(default=fields.Date.context_today)
    registry_id_ids = fields.One2many("spp.registry.id", "partner_id", string="Identifiers")
    group_membership_ids = fields.One2many("spp.group.membership", "group_id", string="Members")
    individual_membership_ids = fields.One2many(
        "spp.group.membership", "individual_id", string="Group Memberships"
    )
    # stored so that lists can be grouped and sorted on them (household of an individual,
    # head and size of a group); an ended membership (end date reached) no longer counts
    household_id = fields.Many2one(
        "res.partner",
        string="Household",
        compute="_compute_household_id",
        store=True,
        index=True,
        help="The group this individual is a current member of (the first one, if several).",
    )
    group_head_id = fields.Many2one(
        "res.partner", string="Head", compute="_compute_group_roster", store=True, index=True
    )
    group_member_count = fields.Integer(
        string="Member Count", compute="_compute_group_roster", store=True
    )

    @api.depends(
        "is_group", "individual_membership_ids.group_id", "individual_membership_ids.end_date"
    )
    def _compute_household_id(self):
        for partner in self:
            current = partner.individual_membership_ids.filtered(_is_current)
            partner.household_id = (
                current.sorted(lambda m: (m.role != "head", m.id))[:1].group_id
                if not partner.is_group
                else False
            )

    @api.depends(
        "is_group",
        "group_membership_ids.individual_id",
        "group_membership_ids.role",
        "group_membership_ids.end_date",
    )
    def _compute_group_roster(self):
        for partner in self:
            current = partner.group_membership_ids.filtered(_is_current) if partner.is_group else []
            partner.group_member_count = len(current)
            heads = [m.individual_id for m in current if m.role == "head"]
            partner.group_head_id = heads[0] if heads else False

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

    def write(self, vals):
        result = super().write(vals)
        if "name" not in vals and not set(NAME_PARTS).isdisjoint(vals):
            # Every list, form and search shows ``name``; DCI answers carry the parts:
            # a changed part recomposes the name so both say the same.
            self._dci_sync_registrant_name()
        return result

    def _dci_sync_registrant_name(self):
        """Set ``name`` of individual registrants to their composed name (where it differs)."""
        by_name = {}
        for partner in self.filtered(lambda p: p.is_registrant and not p.is_group):
            name = self._compose_registrant_name(*(partner[part] for part in NAME_PARTS))
            if name and partner.name != name:
                by_name.setdefault(name, self.browse())
                by_name[name] |= partner
        for name, partners in by_name.items():
            super(ResPartner, partners).write({"name": name})
