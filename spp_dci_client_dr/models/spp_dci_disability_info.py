# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

from ..mapping import (
    FUNCTIONAL_SEVERITIES,
    IMPAIRMENT_LEVELS,
    IMPAIRMENT_TYPES,
    LIMITATION_TYPES,
)


class SppDciDisabilityInfo(models.Model):
    """One impairment of a registrant, as the disability registry codes it.

    The DR ``DisabilityDetails`` impairment (type, level, cause) with the core
    ``DisabilityInfo`` functional limitation of the same domain (type and
    severity, the Washington Group short set); a limitation the DR sends without
    a matching impairment is a line of its own. Replaced at each check.
    """

    _name = "spp.dci.disability.info"
    _description = "Disability (from a DCI disability registry)"
    _order = "partner_id, id"

    partner_id = fields.Many2one(
        "res.partner", string="Registrant", required=True, ondelete="cascade", index=True
    )
    data_source_id = fields.Many2one(
        "spp.dci.data.source", string="Disability Registry", ondelete="set null"
    )
    # Labels and help in the vocabulary's words (DisabilityDetails, core DisabilityInfo).
    impairment_type = fields.Selection(
        IMPAIRMENT_TYPES,
        index="btree_not_null",
        help="DR ImpairmentType: the type of impairment the disabled person suffers from.",
    )
    impairment_level = fields.Selection(
        IMPAIRMENT_LEVELS,
        help="DR ImpairmentLevel: the level of impairment the disabled person suffers from.",
    )
    limitation_type = fields.Selection(
        LIMITATION_TYPES,
        string="Functional Limitation Type",
        index="btree_not_null",
        help="FunctionalLimitationType (DisabilityInfo.disability_limitation_type): the type "
        "of functional limitation experienced by the individual.",
    )
    functional_severity = fields.Selection(
        FUNCTIONAL_SEVERITIES,
        index="btree_not_null",
        help="FunctionalSeverityEnum (DisabilityInfo.functional_severity): the severity level "
        "of the functional limitation.",
    )
    impairment_cause = fields.Char(
        help="DR ImpairmentCause: the cause of impairment, as the registry sent it."
    )
