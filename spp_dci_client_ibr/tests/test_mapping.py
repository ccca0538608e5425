# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from datetime import date

from odoo.tests import BaseCase, tagged

from .. import mapping
from ..mapping import Enrolment, InvalidRecord, parse_beneficiary, parse_records
from .ibr_stub import beneficiary, bundle_example_beneficiary


@tagged("post_install", "-at_install")
class TestIBRMapping(BaseCase):
    def test_vocabulary_shape(self):
        record = beneficiary(
            "CG-01",
            "Child Grant",
            status="Active",
            enrolled_on="2024-03-01T08:00:00Z",
            changed_on="2024-04-01",
        )
        self.assertEqual(
            parse_beneficiary(record),
            [Enrolment("CG-01", "Child Grant", "1", date(2024, 3, 1), date(2024, 4, 1))],
        )

    def test_bundle_and_sample_shapes(self):
        (nested,) = parse_beneficiary(
            bundle_example_beneficiary("DCI001", "Test Programme", "Suspended", "2024-04-12T00:00")
        )
        self.assertEqual(
            (nested.programme_identifier, nested.status, nested.enrolment_date),
            ("DCI001", "4", date(2024, 4, 12)),
        )
        # processflow2res.json: programme_identifier wrapper at the top of the record
        sample = {
            "programme_identifier": {
                "programme": {"programme_identifier": "DCI001", "programme_name": "Test Programme"},
                "enrolment_date": "2024-04-12T00:00",
                "enrolment_status": "Active",
                "status_change_date": "",
            }
        }
        self.assertEqual(
            parse_beneficiary(sample),
            [Enrolment("DCI001", "Test Programme", "1", date(2024, 4, 12), None)],
        )

    def test_statuses_dates_and_activity(self):
        self.assertEqual(mapping.status_code("benefit:2"), "2")
        self.assertEqual(mapping.status_code("graduated"), "3")
        self.assertIsNone(mapping.status_code(""))
        with self.assertRaisesRegex(InvalidRecord, "'Paused' is not one of 1 \\(Active\\)"):
            mapping.status_code("Paused")
        self.assertIsNone(mapping.parse_date("02.05.2024"), "unreadable: left empty")
        self.assertEqual(mapping.parse_date(["2020-01-01", "2021-02-03"]), date(2021, 2, 3))
        self.assertTrue(Enrolment("P").is_active, "no status: held as an enrolment")
        self.assertFalse(Enrolment("P", status="3").is_active)

    def test_invalid(self):
        for record, reason in [
            ("x", "not a JSON object"),
            ({"programme_identifier": "CG-01"}, "not a Programme object"),
            ({"programme_identifier": [{"programme_name": "No id"}]}, "no programme_identifier"),
        ]:
            with self.subTest(reason=reason), self.assertRaisesRegex(InvalidRecord, reason):
                parse_beneficiary(record)
        self.assertEqual(parse_beneficiary({"@type": "Beneficiary"}), [])

    def test_records_and_warning(self):
        enrolments = parse_records(
            [
                beneficiary("A", "Alpha", status="Active"),
                beneficiary("B", "B", status="Suspended"),
                beneficiary("A", "Alpha", status="Active", enrolled_on="2024-01-01"),
            ]
        )
        self.assertEqual([e.programme_identifier for e in enrolments], ["A", "B"])
        self.assertEqual(enrolments[0].enrolment_date, date(2024, 1, 1), "the latest wins")
        self.assertEqual(mapping.warning(enrolments), "Already enrolled in Alpha (A)")
        self.assertIsNone(mapping.warning(enrolments[1:]))
        self.assertTrue(mapping.enrolled_status("yes"))
        with self.assertRaisesRegex(InvalidRecord, "neither 'yes' nor 'no'"):
            mapping.enrolled_status("maybe")
