# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

from ..mapping import (
    FUNCTIONAL_SEVERITIES,
    IMPAIRMENT_LEVELS,
    IMPAIRMENT_TYPES,
    LIMITATION_TYPES,
)


class SppDciDisabilityInfo(models.Model):
    """One disability of a registrant, as the disability registry codes it.

    Either a functional limitation (core ``DisabilityInfo``: limitation type and
    severity, the Washington Group short set) or an impairment
    (DR ``DisabilityDetails``: type, level, cause). Replaced at each check.
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
    limitation_type = fields.Selection(
        LIMITATION_TYPES,
        string="Functional Limitation",
        index="btree_not_null",
        help="FunctionalLimitationType (DisabilityInfo.disability_limitation_type).",
    )
    functional_severity = fields.Selection(
        FUNCTIONAL_SEVERITIES,
        index="btree_not_null",
        help="FunctionalSeverityEnum (DisabilityInfo.functional_severity).",
    )
    impairment_type = fields.Selection(
        IMPAIRMENT_TYPES, index="btree_not_null", help="DR ImpairmentType."
    )
    impairment_level = fields.Selection(IMPAIRMENT_LEVELS, help="DR ImpairmentLevel.")
    impairment_cause = fields.Char(help="DR ImpairmentCause, as the registry sent it.")
