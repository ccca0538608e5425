# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from datetime import date

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.schemas import SearchCriteria, SubscribeCriteria
from odoo.tests import BaseCase, tagged

from .. import mapping
from ..mapping import BIRTH, DEATH, InvalidRecord, parse_person
from .crvs_stub import crvs_person

TODAY = date(2025, 6, 1)


@tagged("post_install", "-at_install")
class TestCRVSMapping(BaseCase):
    def parse(self, record, event=BIRTH):
        return parse_person(record, event, today=TODAY)

    def test_birth_record(self):
        record = crvs_person(
            [("BRN", "B-1"), ("ns:org:IdType:UIN", "U-1"), ("BRN", "B-1")],
            given="Amina",
            second="Kadi",
            surname="Diallo",
            sex="Female",
            birth="2025-01-03T08:15:00",
        )
        person = self.parse(record)
        self.assertEqual(person.identifiers, (("BRN", "B-1"), ("UIN", "U-1")))
        self.assertEqual(
            person.values_for(BIRTH),
            {
                "given_name": "Amina",
                "addl_name": "Kadi",
                "family_name": "Diallo",
                "name": "Amina Kadi Diallo",
                "sex": "female",
                "birthdate": date(2025, 1, 3),
            },
        )

    def test_death_record_only_dates_the_death(self):
        record = crvs_person(
            [("UIN", "U-9"), ("DRN", "D-9")],
            given="Ibrahima",
            surname="Sow",
            birth="1950-04-02",
            death="2025-02-10T14:00:00Z",
        )
        person = self.parse(record, DEATH)
        self.assertEqual(person.values_for(DEATH), {"death_date": date(2025, 2, 10)})
        self.assertEqual(person.identifiers_text(), "UIN U-9, DRN D-9")

    def test_single_identifier_object_and_older_name_spelling(self):
        record = {
            "identifier": {"identifier_type": "BRN", "identifier_value": 123},
            "name": {"first_name": "John", "middle_name": "M", "last_name": "Doe"},
            "birth_date": "2025-01-01",
        }
        person = self.parse(record)
        self.assertEqual(person.identifiers, (("BRN", "123"),))
        self.assertEqual(person.display_name, "John M Doe")
        self.assertIsNone(person.sex)

    def test_invalid_records(self):
        cases = [
            ("not a dict", "not a JSON object"),
            ({"birth_date": "2025-01-01", "name": {"given_name": "A"}}, "no identifier"),
            (
                {"identifier": [{"identifier_type": "BRN", "identifier_value": ""}]},
                "has no identifier_value",
            ),
            (
                crvs_person([("BRN", "1")], given="A", birth="2025-01-01", sex="X"),
                "SexCategoryEnum",
            ),
            (crvs_person([("BRN", "1")], given="A"), "without birth_date"),
            (crvs_person([("BRN", "1")], birth="2025-01-01"), "neither a given name nor a surname"),
            (crvs_person([("BRN", "1")], given="A", birth="01/02/2025"), "is not a date"),
            (crvs_person([("BRN", "1")], given="A", birth="2026-01-01"), "in the future"),
            (
                crvs_person([("BRN", "1")], given="A", birth="2025-01-05", death="2025-01-01"),
                "before birth_date",
            ),
            ({**crvs_person([("BRN", "1")], given="A", birth="2025-01-01"), "name": "A"}, "Name"),
        ]
        for record, reason in cases:
            with self.subTest(reason=reason), self.assertRaisesRegex(InvalidRecord, reason):
                self.parse(record)
        with self.assertRaisesRegex(InvalidRecord, "without death_date"):
            self.parse(crvs_person([("UIN", "1")], given="A", birth="2000-01-01"), DEATH)

    def test_event_of(self):
        self.assertEqual(mapping.event_of("spdci-common:RegistryEventType:LiveBirth"), BIRTH)
        self.assertEqual(mapping.event_of("spdci-common:RegistryEventType:Death"), DEATH)
        self.assertEqual(mapping.event_of("death"), DEATH)
        self.assertEqual(mapping.event_of("REGISTER", {"death_date": "2025-01-01"}), DEATH)
        self.assertEqual(mapping.event_of(None, {"death_date": ""}), BIRTH)

    def test_event_query_is_a_crvs_predicate_search(self):
        query = mapping.event_query(BIRTH, date(2025, 1, 1), date(2025, 1, 31))
        self.assertEqual(
            query,
            [
                {
                    "seq_num": 1,
                    "expression1": {
                        "attribute_name": "birth_date",
                        "operator": "ge",
                        "attribute_value": "2025-01-01",
                    },
                    "condition": "and",
                    "expression2": {
                        "attribute_name": "birth_date",
                        "operator": "le",
                        "attribute_value": "2025-01-31",
                    },
                }
            ],
        )
        criteria = SearchCriteria.model_validate(
            {
                "query_type": "predicate",
                "query": mapping.event_query(DEATH, None, date(2025, 2, 1)),
                "reg_event_type": mapping.REG_EVENT_TYPES[DEATH],
                "reg_record_type": mapping.REG_RECORD_TYPE,
            }
        ).to_json()
        spec.validate_schema(
            "crvs",
            "SearchRequest",
            {
                "transaction_id": "t-1",
                "search_request": [
                    {
                        "reference_id": "r-1",
                        "timestamp": "2025-01-01T00:00:00Z",
                        "search_criteria": criteria,
                    }
                ],
            },
        )
        with self.assertRaisesRegex(ValueError, "start date is after"):
            mapping.event_query(BIRTH, date(2025, 2, 1), date(2025, 1, 1))
        with self.assertRaisesRegex(ValueError, "needs a start or an end"):
            mapping.event_query(BIRTH, None, None)

    def test_subscription_filter_is_valid(self):
        criteria = SubscribeCriteria.model_validate(
            {
                "reg_event_type": mapping.REG_EVENT_TYPES[BIRTH],
                "filter_type": "predicate",
                "filter": mapping.subscription_filter(BIRTH, date(2025, 1, 1)),
                "notify_record_type": mapping.REG_RECORD_TYPE,
            }
        ).to_json()
        self.assertEqual(criteria["filter"][0]["expression1"]["attribute_name"], "birth_date")
