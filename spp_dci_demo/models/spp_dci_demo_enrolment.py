# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models
from odoo.addons.spp_dci_client_ibr.mapping import ENROLMENT_STATUSES


class SppDciDemoEnrolment(models.Model):
    """An enrolment of a person in a programme, as the demo IBR holds it.

    The demo IBR answers one ``Beneficiary`` record per enrolment.
    """

    _name = "spp.dci.demo.enrolment"
    _description = "Demo IBR Enrolment"
    _order = "person_id, enrolment_date desc, id"
    _rec_name = "programme_name"

    person_id = fields.Many2one(
        "spp.dci.demo.person",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("registry_type", "=", "ibr")],
    )
    programme_identifier = fields.Char(required=True)
    programme_name = fields.Char()
    enrolment_status = fields.Selection(ENROLMENT_STATUSES, help="IBR EnrollmentStatusEnum.")
    enrolment_date = fields.Date(index=True)
    status_change_date = fields.Date()
