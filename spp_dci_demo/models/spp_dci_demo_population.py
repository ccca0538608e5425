# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging
from datetime import timedelta

from odoo import api, fields, models

from .. import population

_logger = logging.getLogger(__name__)

#: no chatter messages, followers or tracking for generated records
CORE_ID_TYPES = ("UIN", "BRN", "DRN")
_QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_create_nosubscribe": True}


class SppDciDemo(models.AbstractModel):
    _inherit = "spp.dci.demo"

    @api.model
    def _dci_demo_generate_population(self, households=population.HOUSEHOLDS, seed=population.SEED):
        """Create the drawn demo population (:func:`population.plan`), once.

        Idempotent: a household whose HHID is registered, a demo registry person
        whose identifier the registry holds already, are left alone. Everything
        is created in a few batched creates (one per model), so that the demo
        installs in seconds. Returns the counts created, per kind.
        """
        env = self.sudo().with_context(**_QUIET).env
        plan = population.plan(households, seed)
        ref = env.ref
        id_types = {code: ref(f"spp_dci.id_type_{code.lower()}").id for code in CORE_ID_TYPES}
        id_types["HHID"] = ref("spp_dci_demo.id_type_hhid").id
        country = ref("base.ph").id
        created = dict.fromkeys(("households", "individuals", "crvs", "ibr", "dr"), 0)

        known = set(
            env["spp.registry.id"]
            .search([("id_type_id", "=", id_types["HHID"]), ("value", "=like", "HH-%")])
            .mapped("value")
        )
        homes = [h for h in plan.households if h.hhid not in known]
        if homes:
            self._dci_demo_create_households(env, homes, id_types, country)
            created["households"] = len(homes)
            created["individuals"] = sum(len(h.members) for h in homes)

        # the day the demo XML dates its recent events from (DateTime.today(): the
        # server's date), not the installing user's: both ends of the default import
        # range must hold the same events whatever that user's time zone
        today = fields.Date.today()
        People = env["spp.dci.demo.person"]
        for registry, wanted in (
            ("crvs", [self._dci_demo_crvs_values(r, today, id_types) for r in plan.crvs]),
            ("ibr", self._dci_demo_ibr_values(plan, id_types)),
            ("dr", self._dci_demo_dr_values(plan, id_types)),
        ):
            held = set(
                env["spp.dci.demo.person.id"]
                .search([("person_id.registry_type", "=", registry)])
                .mapped(lambda line: (line.id_type_id.id, line.value))
            )
            new = [values for values in wanted if _first_identifier(values) not in held]
            People.create([{**values, "registry_type": registry} for values in new])
            created[registry] = len(new)
        _logger.info("DCI demo population: created %s", created)
        return created

    @api.model
    def _dci_demo_create_households(self, env, homes, id_types, country):
        Partner = env["res.partner"]
        place = lambda h: {  # noqa: E731
            "street": h.street,
            "street2": h.street2,
            "city": h.city,
            "zip": h.zip,
            "country_id": country,
            "registration_date": h.registration_date,
        }
        groups = Partner.create(
            [
                {
                    **place(h),
                    "name": h.name,
                    "is_registrant": True,
                    "is_group": True,
                    "is_company": True,
                }
                for h in homes
            ]
        )
        members = [(group, h, m) for group, h in zip(groups, homes, strict=True) for m in h.members]
        people = Partner.create(
            [
                {
                    **place(h),
                    "is_registrant": True,
                    "given_name": m.given_name,
                    "addl_name": m.addl_name or False,
                    "family_name": m.family_name,
                    "sex": m.sex,
                    "birthdate": m.birthdate,
                    "phone": m.phone or False,
                }
                for _group, h, m in members
            ]
        )
        uin = id_types["UIN"]
        identifiers = [
            {"partner_id": g.id, "id_type_id": id_types["HHID"], "value": h.hhid}
            for g, h in zip(groups, homes, strict=True)
        ]
        memberships = []
        for person, (group, _h, m) in zip(people, members, strict=True):
            identifiers.append({"partner_id": person.id, "id_type_id": uin, "value": m.key})
            if m.brn:
                identifiers.append(
                    {"partner_id": person.id, "id_type_id": id_types["BRN"], "value": m.brn}
                )
            memberships.append(
                {
                    "group_id": group.id,
                    "individual_id": person.id,
                    "role": m.role,
                    "relationship": m.relationship,
                    "start_date": group.registration_date,
                }
            )
        env["spp.registry.id"].create(identifiers)
        env["spp.group.membership"].create(memberships)

    @api.model
    def _dci_demo_crvs_values(self, record, today, id_types):
        born = record.birth_date
        if record.birth_days_ago is not None:
            born = today - timedelta(days=record.birth_days_ago)
        # the BRN first (what the CRVS knows a birth by), the UIN where there is no BRN
        order = ("BRN", "UIN", "DRN")
        codes = sorted(record.identifiers, key=order.index)
        return {
            "given_name": record.given_name,
            "second_name": record.second_name or False,
            "surname": record.surname,
            "sex": record.sex,
            "birth_date": born,
            "death_date": record.death_days_ago is not None
            and today - timedelta(days=record.death_days_ago),
            "identifier_ids": [
                (0, 0, {"id_type_id": id_types[code], "value": record.identifiers[code]})
                for code in codes
            ],
        }

    @api.model
    def _dci_demo_person_values(self, person, id_types):
        return {
            "given_name": person.given_name,
            "second_name": person.addl_name or False,
            "surname": person.family_name,
            "sex": person.sex,
            "birth_date": person.birthdate,
            "identifier_ids": [(0, 0, {"id_type_id": id_types["UIN"], "value": person.key})],
        }

    @api.model
    def _dci_demo_ibr_values(self, plan, id_types):
        people = {p.key: p for p in plan.individuals}
        return [
            {
                **self._dci_demo_person_values(people[key], id_types),
                "enrolment_ids": [
                    (
                        0,
                        0,
                        {
                            "programme_identifier": code,
                            "programme_name": name,
                            "enrolment_status": status,
                            "enrolment_date": start,
                            "status_change_date": changed or False,
                        },
                    )
                    for code, name, status, start, changed in enrolments
                ],
            }
            for key, enrolments in plan.ibr.items()
        ]

    @api.model
    def _dci_demo_dr_values(self, plan, id_types):
        people = {p.key: p for p in plan.individuals}
        return [
            {**self._dci_demo_person_values(people[key], id_types), **values}
            for key, values in plan.dr.items()
        ]


def _first_identifier(values):
    """(type id, value) of the first identifier of a demo person's create values."""
    line = values["identifier_ids"][0][2]
    return line["id_type_id"], line["value"]
