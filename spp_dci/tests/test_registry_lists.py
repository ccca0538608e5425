from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestRegistryLists(TransactionCase):
    """Household columns of the Groups list, and the group-bys of the registrant search."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.household = Partner.create(
            {"is_registrant": True, "is_group": True, "name": "Sow household", "city": "Thies"}
        )
        cls.head, cls.child, cls.left = Partner.create(
            [
                {"is_registrant": True, "given_name": g, "family_name": "Sow", "sex": s}
                for g, s in (("Awa", "female"), ("Ibou", "male"), ("Modou", "male"))
            ]
        )
        cls.env["spp.group.membership"].create(
            [
                {"group_id": cls.household.id, "individual_id": cls.head.id, "role": "head"},
                {"group_id": cls.household.id, "individual_id": cls.child.id},
                {
                    "group_id": cls.household.id,
                    "individual_id": cls.left.id,
                    "end_date": fields.Date.today() - timedelta(days=1),
                },
            ]
        )

    def test_groups_list_shows_head_and_members(self):
        action = self.env.ref("spp_dci.registrant_group_action")
        list_view = action.view_ids.filtered(lambda v: v.view_mode == "list").view_id
        columns = [node.get("name") for node in etree.fromstring(list_view.arch).iter("field")]
        self.assertEqual(columns[:3], ["name", "group_head_id", "group_member_count"])
        self.assertNotIn("birthdate", columns)
        self.assertEqual(self.household.group_head_id, self.head)
        self.assertEqual(self.household.group_member_count, 2, "the ended membership is left out")
        # the values the list reads, stored (so the list sorts on them)
        row = self.env["res.partner"].search_read(
            [("id", "=", self.household.id)], ["group_head_id", "group_member_count"]
        )[0]
        self.assertEqual(row["group_head_id"][0], self.head.id)

    def test_household_of_individuals_follows_memberships(self):
        self.assertEqual(self.head.household_id, self.household)
        self.assertEqual(self.child.household_id, self.household)
        self.assertFalse(self.left.household_id)
        self.child.individual_membership_ids.write({"end_date": fields.Date.today()})
        self.assertFalse(self.child.household_id)
        self.assertEqual(self.household.group_member_count, 1)

    def test_group_bys(self):
        search = self.env.ref("spp_dci.registrant_view_search")
        group_bys = {
            node.get("context")
            for node in etree.fromstring(search.arch).iter("filter")
            if "group_by" in (node.get("context") or "")
        }
        for field in ("sex", "household_id", "city"):
            self.assertIn(f"{{'group_by': '{field}'}}", group_bys)
        groups = self.env["res.partner"]._read_group(
            [("household_id", "=", self.household.id)], ["household_id", "sex"], ["__count"]
        )
        counts = {(household.id, sex): count for household, sex, count in groups}
        self.assertEqual(counts, {(self.household.id, "female"): 1, (self.household.id, "male"): 1})
