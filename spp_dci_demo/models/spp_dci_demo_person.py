# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, fields, models
from odoo.addons.spp_dci.models.res_partner import SEX
from odoo.addons.spp_dci_client_dr.mapping import (
    DISABILITY_LEVELS,
    DISABILITY_STATUSES,
    FUNCTIONAL_SEVERITIES,
    IMPAIRMENT_LEVELS,
    IMPAIRMENT_TYPES,
    LIMITATION_TYPES,
)

DEMO_REGISTRIES = [
    ("crvs", "Demo CRVS"),
    ("ibr", "Demo IBR"),
    ("dr", "Demo Disability Registry"),
]


class SppDciDemoPerson(models.Model):
    """A person as one of the demo registries (CRVS, IBR, DR) holds them.

    The demo registries stand for *external* systems that this Odoo happens to
    serve too (``/dci/crvs``, ``/dci/ibr``, ``/dci/dr``). Their people live
    here, apart from the social registry (``res.partner``), so that the client
    addons import and check data that the social registry does not hold yet.
    """

    _name = "spp.dci.demo.person"
    _description = "Demo Registry Person"
    _order = "registry_type, surname, given_name, id"

    registry_type = fields.Selection(
        DEMO_REGISTRIES, string="Demo Registry", required=True, index=True
    )
    name = fields.Char(compute="_compute_name", store=True)
    given_name = fields.Char()
    second_name = fields.Char()
    surname = fields.Char()
    sex = fields.Selection(SEX)
    birth_date = fields.Date(index=True)
    death_date = fields.Date(index=True)
    identifier_ids = fields.One2many("spp.dci.demo.person.id", "person_id", string="Identifiers")
    # IBR: programme enrolments
    enrolment_ids = fields.One2many("spp.dci.demo.enrolment", "person_id", string="Enrolments")
    # DR: PWD_Person (status, level) with one functional limitation and one impairment
    disability_status = fields.Selection(DISABILITY_STATUSES)
    disability_level = fields.Selection(DISABILITY_LEVELS)
    limitation_type = fields.Selection(LIMITATION_TYPES, string="Functional Limitation")
    functional_severity = fields.Selection(FUNCTIONAL_SEVERITIES)
    impairment_type = fields.Selection(IMPAIRMENT_TYPES)
    impairment_level = fields.Selection(IMPAIRMENT_LEVELS)
    impairment_cause = fields.Char()

    @api.depends("given_name", "second_name", "surname")
    def _compute_name(self):
        for person in self:
            parts = (person.given_name, person.second_name, person.surname)
            person.name = " ".join(part for part in parts if part)


class SppDciDemoPersonId(models.Model):
    """An identifier of a demo registry person (searchable as ``idtype-value``)."""

    _name = "spp.dci.demo.person.id"
    _description = "Demo Registry Person Identifier"
    _order = "person_id, id_type_id, id"
    _rec_name = "value"

    person_id = fields.Many2one(
        "spp.dci.demo.person", required=True, ondelete="cascade", index=True
    )
    id_type_id = fields.Many2one("spp.id.type", string="Type", required=True, ondelete="restrict")
    value = fields.Char(required=True, index=True)

    _person_type_unique = models.Constraint(
        "UNIQUE(person_id, id_type_id)", "A person has one identifier of each type."
    )
