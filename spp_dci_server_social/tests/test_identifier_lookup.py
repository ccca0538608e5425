"""idtype-value searches answered in SQL give exactly what the ORM path gives."""

from odoo.addons.spp_dci.dci.schemas.search import SearchCriteria
from odoo.addons.spp_dci_server.models.spp_dci_registry import identifier_lookup
from odoo.fields import Domain
from odoo.tests import tagged

from .common import SURNAME, SocialCase


@tagged("post_install", "-at_install")
class TestIdentifierLookup(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        state = cls.env["res.country.state"].search(
            [("country_id", "=", cls.env.ref("base.us").id)], limit=1
        )
        cls.alice.write(
            {
                "state_id": state.id,
                "addl_name": "Mae",
                "email": "alice@example.org",
                "street2": "Apt 4",
                "death_date": "2099-01-01",
            }
        )
        # no name parts at all: the Name falls back to the partner's name
        cls.nameless = Partner.create(
            {
                "name": "Registrant without name parts",
                "is_registrant": True,
                "registry_id_ids": [(0, 0, {"id_type_id": cls.uin.id, "value": "ZB-UIN-NONAME"})],
            }
        )
        inactive_type = cls.env["spp.id.type"].create(
            {"name": "Retired card", "code": "ZBOLD", "active": False}
        )
        cls.bob.write(
            {"registry_id_ids": [(0, 0, {"id_type_id": inactive_type.id, "value": "ZB-OLD-1"})]}
        )
        cls.archived = Partner.create(
            {
                "is_registrant": True,
                "given_name": "Archie",
                "family_name": SURNAME,
                "active": False,
                "registry_id_ids": [(0, 0, {"id_type_id": cls.uin.id, "value": "ZB-UIN-ARCH"})],
            }
        )
        other_company = cls.env["res.company"].create({"name": "Not the endpoint's company"})
        cls.elsewhere = Partner.create(
            {
                "is_registrant": True,
                "given_name": "Eve",
                "family_name": SURNAME,
                "company_id": other_company.id,
                "registry_id_ids": [(0, 0, {"id_type_id": cls.uin.id, "value": "ZB-UIN-ELSE"})],
            }
        )
        cls.env.cr.flush()

    def impl(self):
        user = self.endpoint.user_id
        return self.env(user=user)["spp.dci.registry.social"]

    def orm_answer(self, impl, record_type, id_type, value):
        """What the ORM path serialises for the same identifier."""
        spec = impl._dci_record_types()[record_type]
        Model = impl.env[spec.model].sudo()
        domain = Domain.AND(
            [
                Domain(list(spec.domain)),
                Domain(
                    "registry_id_ids",
                    "any",
                    [("id_type_id", "=", id_type.id), ("value", "=", value)],
                ),
                impl._dci_company_domain(Model),
            ]
        )
        records = Model.search_fetch(domain, list(spec.fetch), order="id")
        return impl.sudo()._dci_serialize(spec.name, records)

    def test_sql_lookup_matches_the_orm(self):
        impl = self.impl()
        cases = [
            (self.uin, "ZB-UIN-001"),  # address with state and country, two identifiers
            (self.nid, "ZB-NID-001"),
            (self.uin, "ZB-UIN-002"),  # an identifier of an archived type
            (self.uin, "ZB-UIN-NONAME"),
            (self.uin, "ZB-UIN-ARCH"),  # archived registrant: not found
            (self.uin, "ZB-UIN-ELSE"),  # another company's: not found
            (self.nid, "ZB-HH-001"),  # a household: not a Person nor a Member
            (self.uin, "ZB-NO-SUCH"),
        ]
        found = 0
        for record_type in ("Person", "Member"):
            spec = impl._dci_record_types()[record_type]
            for id_type, value in cases:
                with self.subTest(record_type=record_type, value=value):
                    fast = impl._dci_identifier_records(spec, id_type.id, value)
                    self.assertEqual(fast, self.orm_answer(impl, record_type, id_type, value))
                    found += len(fast)
        self.assertEqual(found, 8)  # 4 registrants, as Person and as Member
        self.assertIsNone(
            impl._dci_identifier_records(
                impl._dci_record_types()["Group"], self.nid.id, "ZB-HH-001"
            )
        )

    def test_a_renamed_identifier_type_answers_with_its_new_code(self):
        """The identifier types are cached per process; changing one clears them."""
        impl = self.impl()
        spec = impl._dci_record_types()["Person"]

        def codes():
            (person,) = impl._dci_identifier_records(spec, self.nid.id, "ZB-NID-001")
            return {identifier["identifier_type"] for identifier in person["identifier"]}

        old_code = self.nid.code
        self.assertIn(old_code, codes())
        self.nid.code = "ZBNID2"
        self.assertIn("ZBNID2", codes())
        self.assertNotIn(old_code, codes())
        self.assertEqual(
            codes(),
            {
                c["identifier_type"]
                for c in self.orm_answer(impl, "Person", self.nid, "ZB-NID-001")[0]["identifier"]
            },
        )

    def test_search_pages_of_a_lookup(self):
        impl = self.impl()

        def search(**criteria):
            criteria = SearchCriteria.model_validate(
                {
                    "query_type": "idtype-value",
                    "query": {"type": "UIN", "value": "ZB-UIN-001"},
                    **criteria,
                }
            )
            return impl._dci_search(criteria, 100)

        spec = impl._dci_record_types()["Person"]
        translated = impl._dci_translate("Person", "idtype-value", _Query("UIN", "ZB-UIN-001"))
        self.assertEqual(
            identifier_lookup(translated.domain, spec.attributes.identifier),
            (self.uin.id, "ZB-UIN-001"),
        )
        data, pagination = search()
        self.assertEqual(
            data["reg_records"], self.orm_answer(impl, "Person", self.uin, "ZB-UIN-001")
        )
        self.assertEqual(pagination, {"page_size": 100, "page_number": 1, "total_count": 1})
        data, pagination = search(pagination={"page_size": 1, "page_number": 2})
        self.assertEqual(data["reg_records"], [])
        self.assertEqual(pagination, {"page_size": 1, "page_number": 2, "total_count": 1})
        # an expression is not a lookup: the ORM answers it
        expression = impl._dci_translate(
            "Person",
            "expression",
            SearchCriteria.model_validate(
                {
                    "query_type": "expression",
                    "query": {
                        "type": "ns:org:QueryType:expression",
                        "value": {"expression": {"query": {"given_name": {"$eq": "Alice"}}}},
                    },
                }
            ).query,
        )
        self.assertIsNone(identifier_lookup(expression.domain, spec.attributes.identifier))


class _Query:
    """An idtype-value query as the schema parses it (type, value)."""

    def __init__(self, type_, value):
        self.type = type_
        self.value = value
