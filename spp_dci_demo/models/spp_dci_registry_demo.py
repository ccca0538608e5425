# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The demo CRVS, IBR and disability registries, served by spp_dci_server.

Three registry implementations (``_dci_reg_type`` ``crvs``, ``ibr``, ``dr``)
that the DCI server finds at run time, answering from the demo registry
tables of this addon (``spp.dci.demo.person``, ``spp.dci.demo.enrolment``).
The demo data serves them at ``/dci/crvs``, ``/dci/ibr`` and ``/dci/dr``, so
that the CRVS import, the IBR enrolment check and the disability check of the
client addons have a registry to talk to out of the box.

Their model names end in ``.demo``, so they sort after a real implementation
named ``spp.dci.registry.<type>``: should one be installed, the server (which
takes the first name in sorted order and logs a warning) prefers it.
"""

from odoo import api, models
from odoo.addons.spp_dci.dci.codes import RegistryType
from odoo.addons.spp_dci.dci.query import DATE, Attribute, AttributeMap, IdentifierField
from odoo.addons.spp_dci.models.res_partner import SEX
from odoo.addons.spp_dci_client_dr.mapping import DISABILITY_LEVELS, DISABILITY_STATUSES
from odoo.addons.spp_dci_client_ibr.mapping import ENROLMENT_STATUSES
from odoo.addons.spp_dci_server.models.spp_dci_registry import RecordType

PERSON_FIELDS = ("given_name", "second_name", "surname", "sex", "birth_date", "death_date")


def _person_attributes(*prefixes):
    """Name, sex and dates; each also accepted under ``prefixes`` (and as ``name.*``)."""

    def attribute(name, field, *args, forms=(), **kwargs):
        forms = forms or (name,)
        aliases = [f"{prefix}{form}" for prefix in ("", *prefixes) for form in forms]
        return Attribute(
            name, field, *args, aliases=tuple(a for a in aliases if a != name), **kwargs
        )

    return (
        attribute("given_name", "given_name", sortable=True, forms=("name.given_name",)),
        attribute("surname", "surname", sortable=True, forms=("name.surname",)),
        attribute("second_name", "second_name", forms=("name.second_name",)),
        attribute("sex", "sex", values=tuple(code for code, _label in SEX)),
        attribute("birth_date", "birth_date", DATE, sortable=True),
        attribute("death_date", "death_date", DATE, sortable=True),
    )


class SppDciRegistryDemo(models.AbstractModel):
    """What the demo registries share: identifier types and the person parts of a record."""

    _name = "spp.dci.registry.demo"
    _inherit = "spp.dci.registry"
    _description = "DCI Demo Registry (base)"

    #: ``@vocab`` of the JSON-LD records.
    _dci_demo_vocab = None

    @api.model
    def _dci_identifier_types(self):
        types = self.env["spp.id.type"].sudo().search_fetch([], ["code"])
        return {id_type.code: id_type.id for id_type in types}

    @api.model
    def _dci_demo_identifiers(self, people):
        """``{person id: [Identifier, ...]}`` in one query."""
        lines = self.env["spp.dci.demo.person.id"].search_fetch(
            [("person_id", "in", people.ids)], ["person_id", "id_type_id", "value"]
        )
        index = {}
        for line in lines:
            index.setdefault(line.person_id.id, []).append(
                {
                    "@type": "Identifier",
                    "identifier_type": line.id_type_id.code,
                    "identifier_value": line.value,
                }
            )
        return index

    @api.model
    def _dci_demo_person(self, person, identifiers, type_name="Person"):
        """Identifiers, name, sex and dates of a person (core Person vocabulary)."""
        name = {
            "given_name": person.given_name,
            "second_name": person.second_name,
            "surname": person.surname,
        }
        record = {
            "@type": type_name,
            "identifier": identifiers.get(person.id, []),
            "name": {"@type": "Name", **{key: value for key, value in name.items() if value}},
        }
        if person.sex:
            record["sex"] = person.sex
        if person.birth_date:
            record["birth_date"] = person.birth_date.isoformat()
        if person.death_date:
            record["death_date"] = person.death_date.isoformat()
        return record

    @api.model
    def _dci_demo_context(self):
        return {"@vocab": self._dci_demo_vocab}


class SppDciRegistryCrvsDemo(models.AbstractModel):
    """Demo civil registry: ``CRVS_Person`` records, searched on birth and death dates."""

    _name = "spp.dci.registry.crvs.demo"
    _inherit = "spp.dci.registry.demo"
    _description = "DCI Demo CRVS"
    _dci_reg_type = "crvs"
    _dci_reg_type_uri = RegistryType.CIVIL.value
    _dci_demo_vocab = "https://schema.spdci.org/extensions/crvs/v1/"

    @api.model
    def _dci_record_types(self):
        attributes = AttributeMap(
            _person_attributes(),
            identifier=IdentifierField("identifier_ids", "id_type_id", "value"),
        )
        return {
            "Person": RecordType(
                "Person",
                "spp.dci.demo.person",
                (("registry_type", "=", "crvs"),),
                attributes,
                PERSON_FIELDS,
            )
        }

    @api.model
    def _dci_default_record_type(self):
        return "Person"

    @api.model
    def _dci_record_type_aliases(self):
        # spdci-extensions-dci:Person (the crvs bundle's example) is read as "person"
        return {"person": "Person", "crvsperson": "Person"}

    @api.model
    def _dci_serialize(self, record_type, records):
        identifiers = self._dci_demo_identifiers(records)
        return [
            {
                "@context": self._dci_demo_context(),
                **self._dci_demo_person(person, identifiers, "CRVS_Person"),
            }
            for person in records
        ]


class SppDciRegistryIbrDemo(models.AbstractModel):
    """Demo integrated beneficiary registry: one ``Beneficiary`` record per enrolment."""

    _name = "spp.dci.registry.ibr.demo"
    _inherit = "spp.dci.registry.demo"
    _description = "DCI Demo IBR"
    _dci_reg_type = "ibr"
    _dci_reg_type_uri = RegistryType.IBR.value
    _dci_demo_vocab = "https://schema.spdci.org/extensions/ibr/v1/"

    @api.model
    def _dci_record_types(self):
        attributes = AttributeMap(
            (
                Attribute("programme_identifier", "programme_identifier", sortable=True),
                Attribute(
                    "enrollment_status",
                    "enrolment_status",
                    values=tuple(code for code, _label in ENROLMENT_STATUSES),
                    aliases=("enrolment_status",),
                ),
                Attribute(
                    "enrollment_date",
                    "enrolment_date",
                    DATE,
                    sortable=True,
                    aliases=("enrolment_date",),
                ),
            ),
            identifier=IdentifierField("person_id.identifier_ids", "id_type_id", "value"),
        )
        return {
            "Beneficiary": RecordType(
                "Beneficiary",
                "spp.dci.demo.enrolment",
                (("person_id.registry_type", "=", "ibr"),),
                attributes,
                (
                    "person_id",
                    "programme_identifier",
                    "programme_name",
                    "enrolment_status",
                    "enrolment_date",
                    "status_change_date",
                ),
            )
        }

    @api.model
    def _dci_default_record_type(self):
        return "Beneficiary"

    @api.model
    def _dci_record_type_aliases(self):
        # the ibr bundle's reg_record_type example is "Member"
        return {"beneficiary": "Beneficiary", "member": "Beneficiary"}

    @api.model
    def _dci_serialize(self, record_type, records):
        people = records.person_id
        identifiers = self._dci_demo_identifiers(people)
        people.fetch(PERSON_FIELDS)
        result = []
        for enrolment in records:
            person = enrolment.person_id
            record = {
                "@context": self._dci_demo_context(),
                "@type": "Beneficiary",
                "member": {
                    "@type": "Member",
                    "member_identifier": identifiers.get(person.id, []),
                    "demographic_info": self._dci_demo_person(person, identifiers),
                },
                "programme_identifier": [
                    {
                        "@type": "Programme",
                        "programme_identifier": enrolment.programme_identifier,
                        "programme_name": enrolment.programme_name
                        or enrolment.programme_identifier,
                    }
                ],
            }
            if enrolment.enrolment_status:
                record["enrollment_status"] = enrolment.enrolment_status
            if enrolment.enrolment_date:
                record["enrollment_date"] = enrolment.enrolment_date.isoformat()
            if enrolment.status_change_date:
                record["status_change_date"] = [enrolment.status_change_date.isoformat()]
            result.append(record)
        return result


class SppDciRegistryDrDemo(models.AbstractModel):
    """Demo disability registry: ``PWD_Person`` records."""

    _name = "spp.dci.registry.dr.demo"
    _inherit = "spp.dci.registry.demo"
    _description = "DCI Demo Disability Registry"
    _dci_reg_type = "dr"
    _dci_reg_type_uri = RegistryType.DR.value
    _dci_demo_vocab = "https://schema.spdci.org/extensions/dr/v1/"

    @api.model
    def _dci_record_types(self):
        attributes = AttributeMap(
            (
                *_person_attributes("personal_details.demographic_info."),
                Attribute(
                    "disability_status",
                    "disability_status",
                    values=tuple(code for code, _label in DISABILITY_STATUSES),
                ),
                Attribute(
                    "disability_status_level",
                    "disability_level",
                    values=tuple(code for code, _label in DISABILITY_LEVELS),
                ),
            ),
            identifier=IdentifierField("identifier_ids", "id_type_id", "value"),
        )
        return {
            "DisabledPerson": RecordType(
                "DisabledPerson",
                "spp.dci.demo.person",
                (("registry_type", "=", "dr"),),
                attributes,
                (
                    *PERSON_FIELDS,
                    "disability_status",
                    "disability_level",
                    "limitation_type",
                    "functional_severity",
                    "impairment_type",
                    "impairment_level",
                    "impairment_cause",
                ),
            )
        }

    @api.model
    def _dci_default_record_type(self):
        return "DisabledPerson"

    @api.model
    def _dci_record_type_aliases(self):
        # spdci-extensions-dci:DisabledPerson (the dr bundle), PWD_Person, DRPerson, Person
        return {
            "disabledperson": "DisabledPerson",
            "pwdperson": "DisabledPerson",
            "drperson": "DisabledPerson",
            "person": "DisabledPerson",
        }

    @api.model
    def _dci_search(self, criteria, max_page_size, max_depth=None):
        # The dr bundle types reg_records as one object (one person per search item):
        # answer the object when the page holds at most one person ({} when none).
        data, pagination = super()._dci_search(criteria, max_page_size, max_depth)
        records = data["reg_records"]
        if len(records) <= 1:
            data["reg_records"] = records[0] if records else {}
        return data, pagination

    @api.model
    def _dci_serialize(self, record_type, records):
        identifiers = self._dci_demo_identifiers(records)
        result = []
        for person in records:
            member = {
                "@type": "Member",
                "member_identifier": identifiers.get(person.id, []),
                "demographic_info": self._dci_demo_person(person, identifiers, "DR_Person"),
            }
            if person.limitation_type:
                info = {
                    "@type": "DisabilityInfo",
                    "disability_limitation_type": person.limitation_type,
                    "functional_severity": person.functional_severity,
                }
                member["disability_info"] = [_present(info)]
            record = {
                "@context": self._dci_demo_context(),
                "@type": "PWD_Person",
                "personal_details": member,
                "disability_status": person.disability_status,
                "disability_status_level": person.disability_level,
            }
            if person.impairment_type:
                details = {
                    "@type": "DisabilityDetails",
                    "impairment_type": person.impairment_type,
                    "impairment_level": person.impairment_level,
                    "impairment_cause": person.impairment_cause,
                }
                record["disability_details"] = [_present(details)]
            result.append(_present(record))
        return result


def _present(values):
    """``values`` without its empty entries (a spec-valid record carries no nulls)."""
    return {key: value for key, value in values.items() if value}
