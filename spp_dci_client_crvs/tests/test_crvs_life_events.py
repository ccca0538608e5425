# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""What births and deaths change around the person: parents, households, memberships."""

from datetime import date

from odoo.tests import tagged

from .common import DEATHS, FEBRUARY, JANUARY, CRVSHttpCase
from .crvs_stub import crvs_person

RECORDS = [
    # both parents registered, in one household (father head, mother his spouse)
    crvs_person(
        [("BRN", "BRN-7001")],
        given="Binta",
        surname="Diallo",
        sex="female",
        birth="2025-01-04",
        parents=[("UIN", "UIN-5001"), ("UIN", "UIN-5002")],
    ),
    # the parents live in two households: nobody decides for the case worker
    crvs_person(
        [("BRN", "BRN-7002")],
        given="Sekou",
        surname="Toure",
        sex="male",
        birth="2025-01-06",
        parents=[("UIN", "UIN-5003"), ("UIN", "UIN-5004")],
    ),
    # parents the registry does not know (and an unreadable parent2): only the child
    crvs_person(
        [("BRN", "BRN-7003")],
        given="Nene",
        surname="Barry",
        sex="female",
        birth="2025-01-08",
        parents=[("UIN", "UIN-5999"), ("PASSPORT", "")],
    ),
    # the mother is the daughter of the head: the newborn is a grandchild
    crvs_person(
        [("BRN", "BRN-7004")],
        given="Kadi",
        surname="Sow",
        sex="female",
        birth="2025-01-09",
        parents=[("UIN", "UIN-5005")],
    ),
    DEATHS[0],  # Ibrahima Sow's death, as in the import tests
]


@tagged("post_install", "-at_install")
class TestCRVSLifeEvents(CRVSHttpCase):
    records = RECORDS

    def setUp(self):
        super().setUp()
        self.mother = self.registrant("Mariama", "Diallo", [("UIN", "UIN-5001")], sex="female")
        self.father = self.registrant("Alpha", "Diallo", [("UIN", "UIN-5002")], sex="male")
        self.diallo = self.household("Diallo household", (self.father, "head", "SELF"))
        self.member(self.diallo, self.mother, "member", "PRIMSPOUS")
        self.toure_mother = self.registrant("Awa", "Toure", [("UIN", "UIN-5003")])
        self.toure_father = self.registrant("Lamine", "Toure", [("UIN", "UIN-5004")])
        self.household("Toure household A", (self.toure_mother, "head", "SELF"))
        self.household("Toure household B", (self.toure_father, "head", "SELF"))
        self.aissatou = self.registrant("Aissatou", "Sow", [("UIN", "UIN-5005")], sex="female")
        self.sow = self.household("Sow household", (self.ibrahima, "head", "SELF"))
        self.member(self.sow, self.aissatou, "member", "DAUC")

    def household(self, name, head):
        group = self.env["res.partner"].create(
            {"name": name, "is_registrant": True, "is_group": True}
        )
        self.member(group, *head)
        return group

    def member(self, group, individual, role, relationship):
        return self.env["spp.group.membership"].create(
            {
                "group_id": group.id,
                "individual_id": individual.id,
                "role": role,
                "relationship": relationship,
            }
        )

    def current_members(self, group):
        return group.group_membership_ids.filtered(lambda m: not m.end_date).individual_id

    def assertGroupSize(self, group, size):
        self.assertEqual(len(self.current_members(group)), size)
        if "dci_group_size" in group._fields:  # the social registry's group_size (searched on)
            self.assertEqual(group.dci_group_size, size)

    def test_birth_links_parents_and_household(self):
        self.assertGroupSize(self.diallo, 2)
        run = self.import_run("birth", JANUARY)
        self.assertCounts(run, created=4)
        binta = self.holder("BRN", "BRN-7001")
        self.assertEqual((binta.parent1_id, binta.parent2_id), (self.mother, self.father))
        membership = binta.individual_membership_ids
        self.assertRecordValues(
            membership,
            [
                {
                    "group_id": self.diallo.id,
                    "role": "member",
                    "relationship": "CHILD",
                    "start_date": date(2025, 1, 4),
                    "end_date": False,
                }
            ],
        )
        self.assertGroupSize(self.diallo, 3)
        details = {line.partner_id: line.detail for line in run.line_ids}
        self.assertEqual(details[binta], "Binta Diallo; joined household Diallo household")

        sekou = self.holder("BRN", "BRN-7002")
        self.assertEqual(
            (sekou.parent1_id, sekou.parent2_id), (self.toure_mother, self.toure_father)
        )
        self.assertFalse(sekou.individual_membership_ids)
        self.assertIn(
            "parents in several households (Toure household A, Toure household B): not added",
            details[sekou],
        )

        nene = self.holder("BRN", "BRN-7003")
        self.assertFalse(
            nene.parent1_id | nene.parent2_id | nene.individual_membership_ids.group_id
        )
        self.assertEqual(details[nene], "Nene Barry")

        kadi = self.holder("BRN", "BRN-7004")
        self.assertEqual(kadi.parent1_id, self.aissatou)
        self.assertEqual(
            (kadi.individual_membership_ids.group_id, kadi.individual_membership_ids.relationship),
            (self.sow, "GRNDCHILD"),
        )

        # importing again changes nothing
        again = self.import_run("birth", JANUARY)
        self.assertCounts(again, unchanged=4)
        self.assertEqual(len(binta.individual_membership_ids), 1)

    def test_parents_registered_after_the_birth(self):
        self.diallo.group_membership_ids.unlink()
        run = self.import_run("birth", JANUARY)
        binta = self.holder("BRN", "BRN-7001")
        self.assertFalse(binta.individual_membership_ids)
        self.assertCounts(run, created=4)
        # the household is registered later: the next import of the range adds the child
        self.member(self.diallo, self.father, "head", "SELF")
        again = self.import_run("birth", JANUARY)
        self.assertCounts(again, updated=1, unchanged=3)
        self.assertEqual(binta.individual_membership_ids.group_id, self.diallo)
        self.assertEqual(again.line_ids.mapped("detail"), ["joined household Diallo household"])

    def test_death_ends_memberships(self):
        self.assertGroupSize(self.sow, 2)
        run = self.import_run("death", FEBRUARY)
        self.assertCounts(run, updated=1)
        self.assertTrue(self.ibrahima.is_deceased)
        self.assertEqual(self.ibrahima.death_date, date(2025, 2, 10))
        self.assertEqual(self.ibrahima.individual_membership_ids.end_date, date(2025, 2, 10))
        self.assertGroupSize(self.sow, 1)
        self.assertEqual(self.current_members(self.sow), self.aissatou)
        self.assertEqual(
            run.line_ids.detail,
            "death date (empty) → 2025-02-10, new DRN DRN-3001; "
            "group membership ended: Sow household",
        )
        again = self.import_run("death", FEBRUARY)
        self.assertCounts(again, unchanged=1)

    def test_death_recorded_by_hand_still_ends_memberships(self):
        # a death date typed in before the import: the import ends the memberships left open
        self.ibrahima.death_date = "2025-02-10"
        self.ibrahima.registry_id_ids = [
            (0, 0, {"id_type_id": self.id_types["DRN"].id, "value": "DRN-3001"})
        ]
        run = self.import_run("death", FEBRUARY)
        self.assertCounts(run, updated=1)
        self.assertEqual(run.line_ids.detail, "group membership ended: Sow household")
        self.assertGroupSize(self.sow, 1)
