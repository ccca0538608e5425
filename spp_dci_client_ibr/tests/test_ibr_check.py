# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Duplicate enrolment checks against an independent IBR stub, over real HTTP."""

from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import IBRHttpCase
from .ibr_stub import beneficiary


@tagged("post_install", "-at_install")
class TestIBRCheck(IBRHttpCase):
    def rows(self, partner):
        return {
            row.programme_identifier: (
                row.programme_name,
                row.enrolment_status,
                row.enrolment_date,
                row.status_change_date,
                row.is_active,
            )
            for row in partner.ibr_enrolment_ids
        }

    def test_form_button(self):
        result = self.i1.with_user(self.case_worker).action_ibr_check_enrolment()
        self.env.invalidate_all()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn(
            "Person 1: Already enrolled in Child Grant (CG-01)", result["params"]["message"]
        )
        self.assertTrue(self.i1.ibr_is_enrolled)
        self.assertEqual(self.i1.ibr_warning, "Already enrolled in Child Grant (CG-01)")
        self.assertEqual(self.i1.ibr_data_source_id, self.source)
        self.assertTrue(self.i1.ibr_checked_at)
        self.assertEqual(
            self.rows(self.i1),
            {
                "CG-01": ("Child Grant", "1", date(2024, 3, 1), False, True),
                "OAP": ("Old Age Pension", "4", date(2020, 1, 1), date(2023, 6, 30), False),
            },
        )
        (body,) = self.searches()
        (item,) = body["message"]["search_request"]
        criteria = item["search_criteria"]
        self.assertEqual(
            (criteria["query_type"], criteria["query"]),
            ("idtype-value", {"type": "UIN", "value": "UIN-I1"}),
        )
        self.assertEqual(criteria["reg_type"], "ns:org:RegistryType:IBR")
        self.assertEqual(criteria["reg_record_type"], "Beneficiary")
        self.assertStubSawValidRequests(self.stub)

    def test_check_result_is_in_the_registrant_chatter(self):
        self.env.flush_all()
        self.env.cr.flush()  # the registrant was registered before the check
        self.i1.with_user(self.case_worker).action_ibr_check_enrolment()
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        tracked = {
            t.field_id.name: (t.old_value_char or t.old_value_integer, t.new_value_char)
            for t in self.i1.message_ids.tracking_value_ids
        }
        self.assertEqual(tracked["ibr_warning"], (False, "Already enrolled in Child Grant (CG-01)"))
        self.assertIn("ibr_is_enrolled", tracked)
        [message] = self.i1.message_ids.filtered("tracking_value_ids")
        self.assertEqual(message.author_id, self.case_worker.partner_id)

    def test_list_action_is_one_batched_request(self):
        everyone = self.i1 | self.i2 | self.i3 | self.i4 | self.i5 | self.no_uin
        result = self.check(everyone)
        (body,) = self.searches()
        self.assertEqual(
            sorted(
                i["search_criteria"]["query"]["value"] for i in body["message"]["search_request"]
            ),
            ["UIN-I1", "UIN-I2", "UIN-I3", "UIN-I4", "UIN-I5"],
        )
        self.assertEqual(body["header"]["total_count"], 5)
        self.assertStubSawValidRequests(self.stub)

        message = result["params"]["message"]
        self.assertIn("4 checked: 2 already enrolled, 2 not enrolled.", message)
        self.assertIn("Person 2: Already enrolled in Test Programme (DCI001)", message)
        self.assertIn("Person 4: invalid IBR record: enrolment status 'Paused'", message)
        self.assertIn("No Uin: no identifier of type UIN", message)
        # the bundle example's shape and its dotted date
        self.assertEqual(
            self.rows(self.i2), {"DCI001": ("Test Programme", "1", False, False, True)}
        )
        # a past enrolment is kept, but it is no duplicate
        self.assertEqual(
            self.rows(self.i3), {"SCH": ("School Feeding", "3", date(2019, 9, 1), False, False)}
        )
        self.assertFalse(self.i3.ibr_is_enrolled)
        self.assertRecordValues(self.i5, [{"ibr_is_enrolled": False, "ibr_warning": False}])
        self.assertTrue(self.i5.ibr_checked_at)
        self.assertFalse(self.i4.ibr_checked_at, "invalid answer: nothing written")
        self.assertFalse(self.no_uin.ibr_checked_at)

        Partner = self.env["res.partner"].with_user(self.case_worker)
        self.assertEqual(Partner.search([("ibr_is_enrolled", "=", True)]), self.i1 | self.i2)
        self.assertEqual(
            Partner.search([("ibr_enrolment_ids.programme_identifier", "=", "OAP")]), self.i1
        )

    def test_checking_twice_changes_nothing(self):
        people = self.i1 | self.i2 | self.i3
        self.check(people)
        self.env.flush_all()
        rows = people.ibr_enrolment_ids
        before = rows.read(["programme_name", "enrolment_status", "enrolment_date", "write_date"])
        flags = people.read(["ibr_is_enrolled", "ibr_warning"])
        self.check(people)
        self.assertEqual(people.ibr_enrolment_ids, rows)
        self.assertEqual(
            rows.read(["programme_name", "enrolment_status", "enrolment_date", "write_date"]),
            before,
        )
        self.assertEqual(people.read(["ibr_is_enrolled", "ibr_warning"]), flags)

    def test_changes_at_the_ibr(self):
        self.check(self.i1)
        cg01 = self.i1.ibr_enrolment_ids.filtered(lambda r: r.programme_identifier == "CG-01")
        self.stub.beneficiaries[("UIN", "UIN-I1")] = [
            beneficiary(
                "CG-01",
                "Child Grant",
                status="Graduated",
                enrolled_on="2024-03-01",
                changed_on="2025-01-15",
            ),
        ]
        self.check(self.i1)
        self.assertEqual(self.i1.ibr_enrolment_ids, cg01, "updated in place, OAP removed")
        self.assertEqual(
            self.rows(self.i1),
            {"CG-01": ("Child Grant", "3", date(2024, 3, 1), date(2025, 1, 15), False)},
        )
        self.assertRecordValues(self.i1, [{"ibr_is_enrolled": False, "ibr_warning": False}])

    def test_enrolled_method_needs_unsigned_answers(self):
        self.source.ibr_check_method = "enrolled"
        with self.assertRaisesRegex(UserError, "bare message that carries no signature"):
            self.check(self.i1)
        self.assertFalse(self.stub.requests)

    def test_enrolled_method(self):
        self.check(self.i3)  # a search first: SCH graduated
        self.source.write({"ibr_check_method": "enrolled", "require_signature": False})
        result = self.check(self.i1 | self.i3 | self.i5)
        enrolled = self.stub.ibr_requests("/registry/sync/enrolled")
        self.assertEqual(len(enrolled), 3, "the spec's enrolled request names one person")
        self.assertEqual(
            enrolled[0]["message"]["enrolled_criteria"],
            {"query_type": "idtype-value", "query": {"type": "UIN", "value": "UIN-I1"}},
        )
        self.assertStubSawValidRequests(self.stub)
        self.assertIn("3 checked: 1 already enrolled, 2 not enrolled.", result["params"]["message"])
        self.assertRecordValues(
            self.i1 | self.i3 | self.i5,
            [
                {"ibr_is_enrolled": True, "ibr_warning": "Already enrolled"},
                {"ibr_is_enrolled": False, "ibr_warning": False},
                {"ibr_is_enrolled": False, "ibr_warning": False},
            ],
        )
        self.assertFalse(self.i1.ibr_enrolment_ids, "yes/no only: no programme rows")
        self.assertFalse(self.i3.ibr_enrolment_ids, "'no': enrolled nowhere")

    def assertNothingWritten(self):
        for partner in (self.i1, self.i2):
            self.assertFalse(partner.ibr_checked_at)
            self.assertFalse(partner.ibr_is_enrolled)
            self.assertFalse(partner.ibr_enrolment_ids)

    def test_garbage(self):
        self.stub.mode = "garbage"
        with self.assertRaisesRegex(UserError, "not JSON"):
            self.check(self.i1 | self.i2)
        self.assertNothingWritten()

    def test_forged_signature(self):
        self.stub.mode = "forged"
        with self.assertRaisesRegex(UserError, "Bad signature"):
            self.check(self.i1 | self.i2)
        self.assertNothingWritten()

    def test_spec_invalid_answer(self):
        self.stub.mode = "invalid"
        with self.assertRaisesRegex(UserError, "does not follow the DCI 1.0.0 spec"):
            self.check(self.i1 | self.i2)
        self.assertNothingWritten()

    def test_enrolled_answer_not_per_spec(self):
        self.source.write({"ibr_check_method": "enrolled", "require_signature": False})
        self.stub.mode = "invalid"
        with self.assertRaisesRegex(UserError, "does not follow the DCI 1.0.0 spec"):
            self.check(self.i1)
        self.assertNothingWritten()

    def test_rejected_items(self):
        self.stub.mode = "rjct"
        result = self.check(self.i1 | self.i2)
        self.assertIn(
            "the IBR rejected the search: rjct.search_criteria.invalid",
            result["params"]["message"],
        )
        self.assertNothingWritten()

    def test_access(self):
        outsider = new_test_user(self.env, login="ibr_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.i1.with_user(outsider).action_ibr_check_enrolment()
        with self.assertRaises(AccessError):
            self.check(self.i1, user=outsider)
        self.assertFalse(self.stub.requests)
        self.check(self.i1)
        with self.assertRaises(AccessError):
            self.i1.with_user(outsider).read(["ibr_is_enrolled"])
        rows = self.i1.ibr_enrolment_ids.with_user(self.case_worker)
        self.assertEqual(len(rows), 2)
        with self.assertRaises(AccessError):
            rows.write({"programme_name": "edited"})
