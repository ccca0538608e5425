# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, fields, models

from ..mapping import ACTIVE, ENROLMENT_STATUSES


class SppDciIbrEnrolment(models.Model):
    """A programme a registrant is (or was) enrolled in, as an IBR reported it.

    One row per registrant, IBR and programme; refreshed at each check.
    """

    _name = "spp.dci.ibr.enrolment"
    _description = "IBR Enrolment (DCI)"
    _order = "partner_id, is_active desc, enrolment_date desc, id"
    _rec_name = "programme_name"

    partner_id = fields.Many2one(
        "res.partner", string="Registrant", required=True, ondelete="cascade", index=True
    )
    data_source_id = fields.Many2one(
        "spp.dci.data.source", string="IBR", required=True, ondelete="cascade", index=True
    )
    programme_identifier = fields.Char(required=True, index=True)
    programme_name = fields.Char()
    enrolment_status = fields.Selection(
        ENROLMENT_STATUSES, index=True, help="IBR EnrollmentStatusEnum; empty: not given."
    )
    enrolment_date = fields.Date()
    status_change_date = fields.Date()
    is_active = fields.Boolean(
        compute="_compute_is_active", store=True, index=True, string="Active Enrolment"
    )
    checked_at = fields.Datetime(readonly=True)

    _programme_unique = models.Constraint(
        "UNIQUE(partner_id, data_source_id, programme_identifier)",
        "A registrant has one enrolment row per IBR and programme.",
    )

    @api.depends("enrolment_status")
    def _compute_is_active(self):
        for enrolment in self:
            enrolment.is_active = enrolment.enrolment_status in (False, ACTIVE)
