# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The generated demo population: what was installed, drawn the same on every run."""

from collections import Counter
from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

from .. import population
from .common import DemoCase


def generated_households(env):
    return (
        env["spp.registry.id"]
        .search([("id_type_id.code", "=", "HHID"), ("value", "=like", "HH-%")])
        .partner_id
    )


@tagged("post_install", "-at_install")
class TestPopulation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = population.plan()

    def test_plan_is_deterministic(self):
        again = population.plan()
        self.assertEqual(again, self.plan)
        first = self.plan.households[0]
        # the seed fixes the people, not only their number
        self.assertEqual(
            [(m.name, m.key) for m in first.members],
            [(m.name, m.key) for m in again.households[0].members],
        )
        other = population.plan(seed="another seed")
        self.assertNotEqual(
            [m.key for m in other.individuals[:20]], [m.key for m in self.plan.individuals[:20]]
        )

    def test_counts(self):
        groups = generated_households(self.env)
        self.assertEqual(len(groups), population.HOUSEHOLDS)
        individuals = groups.group_membership_ids.individual_id
        self.assertEqual(len(individuals), len(self.plan.individuals))
        self.assertGreater(len(individuals), 300, "a few hundred individuals")
        People = self.env["spp.dci.demo.person"]
        # every generated CRVS record has a UIN or (a recent birth) a BRN
        generated_ids = [m.key for m in self.plan.individuals]
        generated_ids += [r.identifiers.get("BRN") for r in self.plan.crvs if r.birth_days_ago]
        for registry, expected in (
            ("crvs", len(self.plan.crvs)),
            ("ibr", len(self.plan.ibr)),
            ("dr", len(self.plan.dr)),
        ):
            count = People.search_count(
                [("registry_type", "=", registry), ("identifier_ids.value", "in", generated_ids)]
            )
            self.assertEqual(count, expected, registry)
        self.assertGreater(len(self.plan.dr), 20)
        statuses = Counter(v["disability_status"] for v in self.plan.dr.values())
        self.assertTrue(statuses["0"] and statuses["1"], "approved and pending disabilities")
        programmes = Counter(e[0] for rows in self.plan.ibr.values() for e in rows)
        self.assertGreaterEqual(len(programmes), 4, programmes)

    def test_installed_as_drawn(self):
        """Same names and identifiers in the database as in the plan (another run's draw)."""
        Ids = self.env["spp.registry.id"]
        for household in self.plan.households[:: population.HOUSEHOLDS // 10]:
            group = Ids.search([("value", "=", household.hhid)]).partner_id
            self.assertEqual(
                (group.name, group.city, group.zip), (household.name, household.city, household.zip)
            )
            for member in household.members:
                person = Ids.search(
                    [("id_type_id.code", "=", "UIN"), ("value", "=", member.key)]
                ).partner_id
                self.assertEqual(
                    (person.name, person.sex, person.birthdate, person.country_id.code),
                    (member.name, member.sex, member.birthdate, "PH"),
                )
                brn = person.registry_id_ids.filtered(lambda i: i.id_type_id.code == "BRN")
                self.assertEqual(brn.value or "", member.brn)

    def test_households_have_heads_and_members(self):
        for group in generated_households(self.env):
            memberships = group.group_membership_ids
            heads = memberships.filtered(lambda m: m.role == "head")
            self.assertEqual(len(heads), 1, group.name)
            self.assertEqual(heads.relationship, "SELF")
            self.assertEqual(heads.individual_id.family_name + " household", group.name)
            self.assertTrue(all(m.individual_id.street == group.street for m in memberships))
        sizes = Counter(len(g.group_membership_ids) for g in generated_households(self.env))
        self.assertGreater(sum(n for size, n in sizes.items() if size >= 3), 60, sizes)

    def test_ages_and_places(self):
        people = generated_households(self.env).group_membership_ids.individual_id
        years = [population.REFERENCE_DAY.year - p.birthdate.year for p in people]
        self.assertTrue(min(years) <= 1 and max(years) >= 75, (min(years), max(years)))
        self.assertGreaterEqual(len(set(people.mapped("city"))), 8)
        uins = people.registry_id_ids.filtered(lambda i: i.id_type_id.code == "UIN")
        self.assertEqual(len(uins), len(people), "everyone has a UIN")
        self.assertTrue(all(population._luhn(v.value[:-1]) == v.value[-1] for v in uins))

    def test_generator_is_idempotent(self):
        created = self.env["spp.dci.demo"]._dci_demo_generate_population()
        self.assertEqual(
            created, dict.fromkeys(("households", "individuals", "crvs", "ibr", "dr"), 0)
        )

    def test_recent_crvs_events(self):
        today = fields.Date.context_today(self.env["spp.dci.demo"])
        low, high = population.RECENT_DAYS
        crvs = self.env["spp.dci.demo.person"].search([("registry_type", "=", "crvs")])
        window = (today - timedelta(days=high), today - timedelta(days=low))
        births = crvs.filtered(lambda p: p.birth_date and window[0] <= p.birth_date <= window[1])
        deaths = crvs.filtered(lambda p: p.death_date and window[0] <= p.death_date <= window[1])
        self.assertEqual(len(births), sum(1 for r in self.plan.crvs if r.birth_days_ago))
        self.assertEqual(len(deaths), sum(1 for r in self.plan.crvs if r.death_days_ago))
        self.assertTrue(births and deaths)


@tagged("post_install", "-at_install")
class TestPopulationTargeting(DemoCase):
    """The generated people answer for real: a disability check of a household list."""

    def test_disability_check_of_generated_people(self):
        plan = population.plan()
        keys = list(plan.dr)[:6] + [m.key for m in plan.individuals if m.key not in plan.dr][:4]
        people = (
            self.env["spp.registry.id"]
            .search([("id_type_id.code", "=", "UIN"), ("value", "in", keys)])
            .partner_id
        )
        self.assertEqual(len(people), 10)
        with self.served():
            people.with_user(self.case_worker).action_dr_check_disability()
        uin = {
            p.id: p.registry_id_ids.filtered(lambda i: i.id_type_id.code == "UIN").value
            for p in people
        }
        for person in people:
            drawn = plan.dr.get(uin[person.id])
            self.assertTrue(person.dr_checked_at, person.name)
            self.assertEqual(person.dr_registered, bool(drawn), person.name)
            self.assertEqual(
                person.dr_is_disabled,
                bool(drawn and drawn["disability_status"] == "0"),
                person.name,
            )
            if drawn:
                self.assertEqual(person.dr_disability_status, drawn["disability_status"])
                self.assertEqual(
                    person.dr_disability_info_ids.impairment_type, drawn["impairment_type"]
                )
