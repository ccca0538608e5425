from odoo import fields, models


class SppIdType(models.Model):
    """An identifier type (DCI IdentifierTypeEnum and local ones such as NID)."""

    _name = "spp.id.type"
    _description = "Identifier Type"
    _order = "sequence, code"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        index=True,
        help="Code used on the DCI wire (identifier_type / idtype-value 'type'), e.g. UIN.",
    )
    namespace_uri = fields.Char(
        string="Namespace URI",
        help="URI of the code in the DCI vocabulary, e.g. "
        "https://schema.spdci.org/core/v1/code/IdentifierTypeEnum#UIN.",
    )
    description = fields.Text(translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _code_unique = models.Constraint("UNIQUE(code)", "The identifier type code must be unique.")
