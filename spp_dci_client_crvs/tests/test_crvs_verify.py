# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""*Verify with CRVS* on the registrant form, against the CRVS stub over real HTTP."""

from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CRVSHttpCase


@tagged("post_install", "-at_install")
class TestCRVSVerify(CRVSHttpCase):
    def verify(self, partner, user=None):
        action = partner.with_user(user or self.case_worker).action_dci_verify_crvs()
        self.assertEqual(
            (action["res_model"], action["target"]), ("spp.dci.crvs.verify.wizard", "new")
        )
        return self.env["spp.dci.crvs.verify.wizard"].browse(action["res_id"])

    def lines(self, wizard):
        return {line.label: (line.our_value, line.crvs_value) for line in wizard.line_ids}

    def test_differences_and_apply_ticked(self):
        wizard = self.verify(self.fatu)
        self.assertEqual(wizard.state, "differs", wizard.message)
        self.assertEqual(wizard.asked_with, "UIN UIN-2003")
        self.assertEqual(
            self.lines(wizard),
            {
                "Given Name": ("Fatu", "Fatou"),
                "Birthdate": ("—", "2025-01-07"),
                "Identifier BRN": ("—", "BRN-1003"),
            },
        )
        # one spec-valid, signed idtype-value search
        (search,) = self.searches()
        (item,) = search["message"]["search_request"]
        self.assertEqual(item["search_criteria"]["query"], {"type": "UIN", "value": "UIN-2003"})
        self.assertStubSawValidRequests(self.stub)

        with self.assertRaisesRegex(UserError, "Tick the CRVS values"):
            wizard.with_user(self.case_worker).action_apply()
        wizard.line_ids.filtered(lambda line: line.label != "Birthdate").write({"apply": True})
        before = len(self.fatu.message_ids)
        action = wizard.with_user(self.case_worker).action_apply()
        self.assertEqual(action["params"]["type"], "success")
        self.env.invalidate_all()
        self.assertEqual(
            (self.fatu.given_name, self.fatu.name, self.fatu.birthdate),
            ("Fatou", "Fatou Ndiaye", False),
        )
        self.assertEqual(self.holder("BRN", "BRN-1003"), self.fatu)
        self.assertEqual(len(self.fatu.message_ids), before + 1)
        message = self.fatu.message_ids[0]
        self.assertEqual(message.author_id, self.case_worker.partner_id)
        self.assertIn("Given Name: Fatu → Fatou", message.preview)
        self.assertIn("Identifier BRN: — → BRN-1003", message.preview)
        self.assertNotIn("Birthdate", message.preview)
        # asked again: only the value not taken differs
        again = self.verify(self.fatu)
        self.assertEqual(self.lines(again), {"Birthdate": ("—", "2025-01-07")}, again.message)

    def test_same(self):
        omar = self.registrant(
            "Omar", "Diallo", [("BRN", "BRN-1002")], sex="male", birthdate="2025-01-05"
        )
        wizard = self.verify(omar)
        self.assertEqual(wizard.state, "same", wizard.message)
        self.assertIn("records Omar Diallo as this registry does", wizard.message)
        self.assertFalse(wizard.line_ids)

    def test_not_found(self):
        nobody = self.registrant("No", "Body", [("UIN", "UIN-4040")])
        wizard = self.verify(nobody)
        self.assertEqual(wizard.state, "not_found")
        self.assertIn("has no record of UIN UIN-4040", wizard.message)

    def test_several_match(self):
        # the UIN is Amina's, the BRN Omar's: the CRVS knows them as two people
        mixed = self.registrant("Mixed", "Up", [("UIN", "UIN-2001"), ("BRN", "BRN-1002")])
        wizard = self.verify(mixed)
        self.assertEqual(wizard.state, "several", wizard.message)
        self.assertEqual(wizard.asked_with, "BRN BRN-1002, UIN UIN-2001")
        self.assertIn("Amina Kadi Diallo (BRN BRN-1001, UIN UIN-2001)", wizard.message)
        self.assertIn("Omar Diallo (BRN BRN-1002)", wizard.message)
        (search,) = self.searches()
        self.assertEqual(len(search["message"]["search_request"]), 2)

    def test_unreachable(self):
        self.stub.stop()
        wizard = self.verify(self.fatu)
        self.assertEqual(wizard.state, "error")
        self.assertIn("The CRVS National CRVS could not be asked", wizard.message)
        self.assertFalse(wizard.line_ids)

    def test_no_identifier(self):
        nameless = self.env["res.partner"].create({"name": "No Id", "is_registrant": True})
        wizard = self.verify(nameless)
        self.assertEqual(wizard.state, "error")
        self.assertIn("holds no identifier", wizard.message)
        self.assertFalse(self.stub.requests)

    def test_death_ends_memberships(self):
        household = self.env["res.partner"].create(
            {"name": "Sow household", "is_registrant": True, "is_group": True}
        )
        self.env["spp.group.membership"].create(
            {"group_id": household.id, "individual_id": self.ibrahima.id, "role": "head"}
        )
        wizard = self.verify(self.ibrahima)
        self.assertEqual(self.lines(wizard)["Death Date"], ("—", "2025-02-10"), wizard.message)
        self.assertIn("Identifier DRN", self.lines(wizard))
        wizard.line_ids.write({"apply": True})
        wizard.with_user(self.case_worker).action_apply()
        self.env.invalidate_all()
        self.assertTrue(self.ibrahima.is_deceased)
        self.assertEqual(self.ibrahima.death_date, date(2025, 2, 10))
        self.assertEqual(self.ibrahima.individual_membership_ids.end_date, date(2025, 2, 10))
        self.assertIn(
            "Group memberships ended: Sow household", self.ibrahima.message_ids[0].preview
        )

    def test_conflicting_identifier_not_applicable(self):
        # Moussa holds BRN-9999; the CRVS record of UIN-2007 has BRN-1007
        wizard = self.verify(self.moussa)
        line = wizard.line_ids.filtered(lambda line: line.label == "Identifier BRN")
        self.assertEqual((line.our_value, line.crvs_value), ("BRN-9999", "BRN-1007"))
        self.assertFalse(line.can_apply)
        self.assertIn("Another value", line.note)
