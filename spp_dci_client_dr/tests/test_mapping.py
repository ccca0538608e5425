# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.tests import BaseCase, tagged

from .. import mapping
from ..mapping import DisabilityInfo, InvalidRecord, parse_record
from .dr_stub import pwd_person


@tagged("post_install", "-at_install")
class TestDRMapping(BaseCase):
    def test_pwd_person(self):
        record = pwd_person(
            "U-1",
            status="Approved",
            level="status:2",
            infos=[("MOB_SS", "3"), ("type:VIS_SS", 2)],
            details=[("Mobility", "category:3", " Road accident ")],
        )
        result = parse_record(record)
        self.assertEqual((result.registered, result.is_disabled), (True, True))
        self.assertEqual((result.status, result.level, result.max_severity), ("0", "2", "3"))
        self.assertEqual(
            result.infos,
            (
                # the Mobility impairment and the Mobility limitation: one complete line
                DisabilityInfo(
                    limitation_type="MOB_SS",
                    functional_severity="3",
                    impairment_type="3",
                    impairment_level="3",
                    impairment_cause="Road accident",
                ),
                DisabilityInfo(limitation_type="VIS_SS", functional_severity="2"),
            ),
        )
        self.assertEqual(result.identifiers, (("UIN", "U-1"),))
        self.assertEqual(
            result.values(),
            {
                "dr_registered": True,
                "dr_is_disabled": True,
                "dr_disability_status": "0",
                "dr_disability_level": "2",
                "dr_functional_severity": "3",
            },
        )

    def test_one_line_per_impairment(self):
        """An impairment takes the limitation of its domain; the others stay lines of their own."""
        record = pwd_person(
            "U-2",
            status="Pending",
            infos=[("SC_SS", "2"), ("HEAR_SS", "4")],
            details=[("Mental", "Mild", None), ("Hearing", "Extreme", "Birth")],
        )
        result = parse_record(record)
        self.assertEqual(
            result.infos,
            (
                DisabilityInfo(impairment_type="6", impairment_level="1"),
                DisabilityInfo(
                    limitation_type="HEAR_SS",
                    functional_severity="4",
                    impairment_type="2",
                    impairment_level="4",
                    impairment_cause="Birth",
                ),
                DisabilityInfo(limitation_type="SC_SS", functional_severity="2"),
            ),
        )
        self.assertEqual((result.status, result.is_disabled), (mapping.PENDING, False))

    def test_is_disabled_rules(self):
        # explicit is_disabled wins over the status
        self.assertFalse(
            parse_record({**pwd_person("U", status="Approved"), "is_disabled": False}).is_disabled
        )
        self.assertTrue(parse_record(pwd_person("U", is_disabled="1")).is_disabled)
        # pending or expired: not (or no longer) recognised
        self.assertFalse(parse_record(pwd_person("U", status="Pending")).is_disabled)
        self.assertFalse(parse_record(pwd_person("U", status="2")).is_disabled)
        # held in the DR with nothing else said
        self.assertTrue(parse_record(pwd_person("U")).is_disabled)
        # unknown to the DR
        for empty in (None, {}, []):
            self.assertEqual(parse_record(empty), mapping.NOT_REGISTERED)
        self.assertNotIn("dr_registered", mapping.DisabilityResult(None, False).values())

    def test_invalid_codes(self):
        cases = [
            (pwd_person("U", status="Maybe"), "disability_status 'Maybe' is not one of"),
            (pwd_person("U", infos=[("WALK", "3")]), "disability_limitation_type 'WALK'"),
            (pwd_person("U", infos=[("MOB_SS", "9")]), "functional_severity '9'"),
            (
                pwd_person("U", details=[("Physical and movement related functions", "1", "")]),
                "impairment_type",
            ),
            ({**pwd_person("U"), "is_disabled": "perhaps"}, "is not a yes/no value"),
            ({"disability_details": "severe"}, "not a list of objects"),
            ("text", "not a JSON object"),
        ]
        for record, reason in cases:
            with self.subTest(reason=reason), self.assertRaisesRegex(InvalidRecord, reason):
                parse_record(record)

    def test_identifiers(self):
        record = {
            "personal_details": {
                "identifier": "123456",
                "member_identifier": [
                    {"identifier_type": "ns:org:IdType:UIN", "identifier_value": "U-7"}
                ],
            }
        }
        self.assertEqual(mapping.identifiers_of(record, "NID"), (("UIN", "U-7"), ("NID", "123456")))
        self.assertEqual(mapping.identifiers_of(record), (("UIN", "U-7"),))

    def test_first_record_and_disabled_status(self):
        self.assertEqual(mapping.first_record({"a": 1}), {"a": 1})
        self.assertEqual(mapping.first_record([{}, {"a": 1}]), {"a": 1})
        self.assertIsNone(mapping.first_record([]))
        with self.assertRaisesRegex(InvalidRecord, "2 people for one identifier"):
            mapping.first_record([{"a": 1}, {"b": 2}])
        self.assertTrue(mapping.disabled_status("yes"))
        self.assertFalse(mapping.disabled_status("no"))
        with self.assertRaisesRegex(InvalidRecord, "no disabled_status"):
            mapping.disabled_status(None)
