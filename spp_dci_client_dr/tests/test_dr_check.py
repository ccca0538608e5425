# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Disability checks against an independent DR stub, over real HTTP."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import DRHttpCase


@tagged("post_install", "-at_install")
class TestDRCheck(DRHttpCase):
    def test_form_button(self):
        result = self.d1.with_user(self.case_worker).action_dr_check_disability()
        self.env.invalidate_all()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("1 checked: 1 with a disability", result["params"]["message"])
        self.assertRecordValues(
            self.d1,
            [
                {
                    "dr_registered": True,
                    "dr_is_disabled": True,
                    "dr_disability_status": "0",
                    "dr_disability_level": "2",
                    "dr_functional_severity": "3",
                    "dr_data_source_id": self.source.id,
                }
            ],
        )
        self.assertTrue(self.d1.dr_checked_at)
        # one complete line per impairment: type, level, limitation, severity
        lines = self.d1.dr_disability_info_ids
        self.assertEqual(
            sorted(
                lines.mapped(
                    lambda i: (
                        i.impairment_type or "",
                        i.impairment_level or "",
                        i.limitation_type or "",
                        i.functional_severity or "",
                        i.impairment_cause or "",
                    )
                )
            ),
            [("", "", "VIS_SS", "2", ""), ("3", "3", "MOB_SS", "3", "Road accident")],
        )
        (body,) = self.searches()
        (item,) = body["message"]["search_request"]
        self.assertEqual(item["search_criteria"]["query"], {"type": "UIN", "value": "UIN-D1"})
        self.assertEqual(item["search_criteria"]["query_type"], "idtype-value")
        self.assertEqual(item["search_criteria"]["reg_type"], "ns:org:RegistryType:DR")
        self.assertStubSawValidRequests(self.stub)

    def test_list_action_is_one_batched_request(self):
        everyone = self.d1 | self.d2 | self.d3 | self.d4 | self.d5 | self.no_uin | self.household
        result = self.check(everyone)
        # one request, one search_request item per registrant with a UIN
        (body,) = self.searches()
        values = [i["search_criteria"]["query"]["value"] for i in body["message"]["search_request"]]
        self.assertEqual(sorted(values), ["UIN-D1", "UIN-D2", "UIN-D3", "UIN-D4", "UIN-D5"])
        self.assertEqual(body["header"]["total_count"], 5)
        self.assertStubSawValidRequests(self.stub)

        message = result["params"]["message"]
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn(
            "4 checked: 2 with a disability, 1 pending (still under assessment), 0 without, "
            "1 not in the disability registry",
            message,
        )
        self.assertIn(
            "Person 4: invalid DR record: disability_status 'Maybe' is not one of", message
        )
        self.assertIn("No Uin: no identifier of type UIN", message)
        self.assertIn("Household D: not an individual registrant", message)

        self.assertTrue(self.d1.dr_is_disabled)
        self.assertRecordValues(
            self.d2,
            [
                {
                    "dr_registered": True,
                    "dr_is_disabled": False,
                    "dr_disability_status": "1",
                    "dr_functional_severity": "2",
                }
            ],
        )
        self.assertRecordValues(
            self.d3,
            [
                {
                    "dr_registered": True,
                    "dr_is_disabled": True,
                    "dr_disability_status": False,
                    "dr_functional_severity": "4",
                }
            ],
        )
        self.assertRecordValues(self.d5, [{"dr_registered": False, "dr_is_disabled": False}])
        self.assertTrue(self.d5.dr_checked_at, "checked, and not in the DR")
        for skipped in (self.d4, self.no_uin, self.household):
            self.assertFalse(skipped.dr_checked_at, f"{skipped.name}: nothing written")
            self.assertFalse(skipped.dr_disability_info_ids)

        # targeting filters on the stored values
        Partner = self.env["res.partner"].with_user(self.case_worker)
        self.assertEqual(Partner.search([("dr_is_disabled", "=", True)]), self.d1 | self.d3)
        self.assertEqual(
            Partner.search([("dr_disability_info_ids.limitation_type", "=", "MOB_SS")]), self.d1
        )
        self.assertEqual(
            Partner.search([("dr_functional_severity", "in", ["3", "4"])]), self.d1 | self.d3
        )

    def test_batch_size(self):
        """More than one request's worth runs in the background, one queue job per batch."""
        self.source.dr_batch_size = 2
        result = self.check(self.d1 | self.d2 | self.d3 | self.d4 | self.d5)
        run = self.env["spp.dci.check.run"].browse(result["res_id"])
        self.assertFalse(self.searches())
        self.run_queued_jobs()
        self.assertEqual(
            [len(body["message"]["search_request"]) for body in self.searches()], [2, 2, 1]
        )
        # as the check at once: 4 checked, 2 with a disability, Person 4's record invalid
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "batch_done": 3,
                    "progress": 100.0,
                    "checked_count": 4,
                    "flagged_count": 2,
                    "problem_count": 1,
                }
            ],
        )

    def test_checking_twice_changes_nothing(self):
        people = self.d1 | self.d2 | self.d3 | self.d5
        self.check(people)
        self.env.flush_all()
        fields = [
            "dr_registered",
            "dr_is_disabled",
            "dr_disability_status",
            "dr_disability_level",
            "dr_functional_severity",
            "dr_disability_info_ids",
        ]
        before = people.read(fields)
        lines = people.dr_disability_info_ids
        self.check(people)
        self.assertEqual(people.read(fields), before)
        self.assertEqual(people.dr_disability_info_ids, lines, "the same lines, not rewritten")
        self.assertTrue(lines.exists())

    def test_registry_change_replaces_the_lines(self):
        self.check(self.d1)
        self.stub.people[("UIN", "UIN-D1")]["disability_status"] = "Expired"
        self.stub.people[("UIN", "UIN-D1")]["personal_details"]["disability_info"] = [
            {"disability_limitation_type": "SC_SS", "functional_severity": "2"}
        ]
        del self.stub.people[("UIN", "UIN-D1")]["disability_details"]
        self.check(self.d1)
        self.assertRecordValues(
            self.d1,
            [{"dr_is_disabled": False, "dr_disability_status": "2", "dr_functional_severity": "2"}],
        )
        self.assertEqual(self.d1.dr_disability_info_ids.mapped("limitation_type"), ["SC_SS"])

    def test_disabled_then_details_method(self):
        self.source.dr_check_method = "disabled"
        self.check(self.d1 | self.d2 | self.d3 | self.d5)
        disabled = self.stub.dr_requests("/registry/sync/disabled")
        details = self.stub.dr_requests("/registry/sync/get-disability-details")
        self.assertEqual(len(disabled), 4, "the spec's disabled request names one person")
        self.assertEqual(
            sorted(b["message"]["disabled_criteria"]["query"]["value"] for b in details),
            ["UIN-D1", "UIN-D3"],
            "details only for those who are disabled",
        )
        self.assertEqual(disabled[0]["message"]["disabled_criteria"]["query_type"], "idtype-value")
        self.assertFalse(self.searches())
        self.assertStubSawValidRequests(self.stub)
        self.assertRecordValues(
            self.d1 | self.d2 | self.d3 | self.d5,
            [
                {
                    "dr_is_disabled": True,
                    "dr_disability_status": "0",
                    "dr_functional_severity": "3",
                },
                {
                    "dr_is_disabled": False,
                    "dr_disability_status": False,
                    "dr_functional_severity": False,
                },
                {
                    "dr_is_disabled": True,
                    "dr_disability_status": False,
                    "dr_functional_severity": "4",
                },
                {
                    "dr_is_disabled": False,
                    "dr_disability_status": False,
                    "dr_functional_severity": False,
                },
            ],
        )
        self.assertEqual(len(self.d1.dr_disability_info_ids), 2)

    def assertNothingWritten(self):
        for partner in (self.d1, self.d2, self.d3):
            self.assertFalse(partner.dr_checked_at)
            self.assertFalse(partner.dr_is_disabled)
            self.assertFalse(partner.dr_disability_info_ids)

    def test_garbage(self):
        self.stub.mode = "garbage"
        with self.assertRaisesRegex(UserError, "not JSON"):
            self.check(self.d1 | self.d2 | self.d3)
        self.assertNothingWritten()

    def test_forged_signature(self):
        self.stub.mode = "forged"
        with self.assertRaisesRegex(UserError, "Bad signature"):
            self.check(self.d1 | self.d2 | self.d3)
        self.assertNothingWritten()

    def test_forged_on_the_second_batch_fails_that_batch_only(self):
        self.source.dr_batch_size = 2
        stub = self.stub
        original = stub.envelope
        calls = []

        def envelope(header, message, *, mode=None):
            calls.append(header)
            return original(header, message, mode="forged" if len(calls) > 1 else mode)

        stub.envelope = envelope
        result = self.check(self.d1 | self.d2 | self.d3)
        run = self.env["spp.dci.check.run"].browse(result["res_id"])
        self.run_queued_job(
            self.env["queue.job"].search([("model_name", "=", "spp.dci.data.source")])
        )
        first, second = run.batch_ids.sudo().job_id.sorted("id")
        self.run_queued_job(first)
        self.fail_queued_job(second, UserError)
        self.assertEqual(len(self.searches()), 2)
        # each batch is committed by its own job: the first stays, the forged one wrote nothing
        failed = run.batch_ids.filtered(lambda b: b.job_state == "failed")
        self.assertEqual(failed.partner_ids, self.d3)
        self.assertIn("does not match its content", failed.job_error)
        self.assertFalse(self.d3.dr_checked_at)
        self.assertTrue(self.d1.dr_checked_at and self.d2.dr_checked_at)
        self.assertEqual(run.state, "failed")

    def test_forged_disabled_answer(self):
        self.source.dr_check_method = "disabled"
        self.stub.mode = "forged"
        with self.assertRaisesRegex(UserError, "Bad signature"):
            self.check(self.d1)
        self.assertNothingWritten()

    def test_rejected_items(self):
        self.stub.mode = "rjct"
        result = self.check(self.d1 | self.d2)
        self.assertIn(
            "the DR rejected the search: rjct.search_criteria.invalid", result["params"]["message"]
        )
        self.assertNothingWritten()

    def test_access(self):
        outsider = new_test_user(self.env, login="dr_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.d1.with_user(outsider).action_dr_check_disability()
        with self.assertRaises(AccessError):
            self.check(self.d1, user=outsider)
        self.assertFalse(self.stub.requests)
        self.check(self.d1)
        with self.assertRaises(AccessError):
            self.d1.with_user(outsider).read(["dr_is_disabled"])

    def test_no_dr_configured(self):
        # every DR source, the demo one included, so that none is configured
        self.env["spp.dci.data.source"].search([("registry_type", "=", "dr")]).active = False
        with self.assertRaisesRegex(UserError, "No disability registry is configured"):
            self.d1.with_user(self.case_worker).action_dr_check_disability()
