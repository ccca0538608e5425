from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Subset of the DCI RelationshipTypeEnum (schemas/core/v1/code/RelationshipTypeEnum.jsonld)
# that household rosters use; the code is what goes on the wire.
RELATIONSHIP_CODES = [
    ("SELF", "Self"),
    ("PRIMSPOUS", "Primary spouse"),
    ("SPS", "Spouse"),
    ("CHILD", "Child"),
    ("SONC", "Son"),
    ("DAUC", "Daughter"),
    ("PRN", "Parent"),
    ("SIB", "Sibling"),
    ("GRPRN", "Grandparent"),
    ("GRNDCHILD", "Grandchild"),
    ("EXT", "Extended family member"),
    ("DOMPART", "Domestic partner"),
]


class SppGroupMembership(models.Model):
    """Membership of an individual in a group (household) with a role."""

    _name = "spp.group.membership"
    _description = "Group Membership"
    _order = "group_id, role, id"

    group_id = fields.Many2one(
        "res.partner",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("is_registrant", "=", True), ("is_group", "=", True)],
    )
    individual_id = fields.Many2one(
        "res.partner",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("is_registrant", "=", True), ("is_group", "=", False)],
    )
    role = fields.Selection(
        [("head", "Head"), ("member", "Member")], default="member", required=True
    )
    relationship = fields.Selection(
        RELATIONSHIP_CODES, help="Relationship to the head of the group."
    )
    start_date = fields.Date()
    end_date = fields.Date()

    _group_individual_unique = models.Constraint(
        "UNIQUE(group_id, individual_id)", "This individual is already a member of this group."
    )

    @api.constrains("group_id", "individual_id")
    def _check_kinds(self):
        for membership in self:
            if not membership.group_id.is_group or membership.individual_id.is_group:
                raise ValidationError(self.env._("A membership links an individual to a group."))
