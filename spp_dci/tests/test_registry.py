from psycopg2.errors import UniqueViolation

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestRegistryLayer(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uin = cls.env.ref("spp_dci.id_type_uin")
        cls.brn = cls.env.ref("spp_dci.id_type_brn")
        cls.person = cls.env["res.partner"].create(
            {
                "is_registrant": True,
                "given_name": "Amina",
                "family_name": "Diallo",
                "sex": "female",
                "birthdate": "1990-05-17",
            }
        )
        cls.household = cls.env["res.partner"].create(
            {"is_registrant": True, "is_group": True, "name": "Diallo household"}
        )

    def test_id_types_from_the_spec_enum(self):
        codes = set(self.env["spp.id.type"].search([]).mapped("code"))
        self.assertLessEqual({"UIN", "BRN", "MRN", "DRN"}, codes)
        self.assertTrue(self.uin.namespace_uri.endswith("IdentifierTypeEnum#UIN"))

    def test_individual_name_composed_from_parts(self):
        self.assertEqual(self.person.name, "Amina Diallo")

    def test_identifier_unique_per_type_and_value(self):
        ids = self.env["spp.registry.id"]
        ids.create(
            {"partner_id": self.person.id, "id_type_id": self.uin.id, "value": " 847951632 "}
        )
        self.assertEqual(self.person.registry_id_ids.value, "847951632")
        # same value under another type is a different identifier
        ids.create({"partner_id": self.person.id, "id_type_id": self.brn.id, "value": "847951632"})
        other = self.env["res.partner"].create({"is_registrant": True, "given_name": "Other"})
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.cr.savepoint():
            ids.create({"partner_id": other.id, "id_type_id": self.uin.id, "value": "847951632"})

    def test_membership_links_individual_to_group(self):
        membership = self.env["spp.group.membership"].create(
            {
                "group_id": self.household.id,
                "individual_id": self.person.id,
                "role": "head",
                "relationship": "SELF",
            }
        )
        self.assertEqual(self.household.group_membership_ids, membership)
        self.assertEqual(self.person.individual_membership_ids.group_id, self.household)
        with self.assertRaises(ValidationError):
            self.env["spp.group.membership"].create(
                {"group_id": self.person.id, "individual_id": self.household.id}
            )

    def test_identifier_lookup_is_indexed(self):
        # idtype-value search relies on the unique (id_type_id, value) index
        self.env.cr.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'spp_registry_id'")
        defs = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("(id_type_id, value)", defs)
