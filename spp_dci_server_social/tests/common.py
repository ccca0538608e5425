from odoo.addons.spp_dci_server.tests.common import DCIServerCase

SURNAME = "Zembla"  # no other registrant carries it: queries on it see our fixture only


class SocialCase(DCIServerCase):
    """The /dci/social endpoint (data of this addon) with a small household."""

    endpoint_xmlid = "spp_dci_server_social.fastapi_endpoint_dci_social"
    spec_name = "social"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uin = cls.env.ref("spp_dci.id_type_uin")
        cls.nid = cls.env.ref("spp_dci.id_type_nid")
        Partner = cls.env["res.partner"]
        country = cls.env.ref("base.us")

        def person(given, sex, birthdate, uin, **values):
            return Partner.create(
                {
                    "is_registrant": True,
                    "given_name": given,
                    "family_name": SURNAME,
                    "sex": sex,
                    "birthdate": birthdate,
                    "registration_date": "2022-01-10",
                    "city": "Anytown",
                    "zip": "12345",
                    "country_id": country.id,
                    "registry_id_ids": [(0, 0, {"id_type_id": cls.uin.id, "value": uin})],
                    **values,
                }
            )

        cls.alice = person(
            "Alice", "female", "1985-05-20", "ZB-UIN-001", phone="+15550001", street="123 Main St"
        )
        cls.alice.write(
            {"registry_id_ids": [(0, 0, {"id_type_id": cls.nid.id, "value": "ZB-NID-001"})]}
        )
        cls.bob = person("Bob", "male", "1982-03-15", "ZB-UIN-002")
        cls.charlie = person("Charlie", "male", "2010-07-05", "ZB-UIN-003")
        cls.daisy = person("Daisy", "female", "2012-09-22", "ZB-UIN-004")
        cls.household = Partner.create(
            {
                "name": f"{SURNAME} household",
                "is_registrant": True,
                "is_group": True,
                "registration_date": "2022-01-10",
                "city": "Anytown",
                "registry_id_ids": [(0, 0, {"id_type_id": cls.nid.id, "value": "ZB-HH-001"})],
            }
        )
        Membership = cls.env["spp.group.membership"]
        for individual, role, relationship in (
            (cls.alice, "head", "SELF"),
            (cls.bob, "member", "SPS"),
            (cls.charlie, "member", "CHILD"),
            (cls.daisy, "member", "CHILD"),
        ):
            Membership.create(
                {
                    "group_id": cls.household.id,
                    "individual_id": individual.id,
                    "role": role,
                    "relationship": relationship,
                }
            )
        cls.env.cr.flush()  # as the fixture's commit would: its registry changes are done

    def sync_search(self, *items, **kwargs):
        response = self.post("/registry/sync/search", self.search_envelope(*items), **kwargs)
        body = self.assertSpecResponse("/registry/sync/search", response)
        return response, body

    def one(self, query_type, query, **criteria):
        """A sync search of one item; returns that item of search_response."""
        response, body = self.sync_search(self.search_item(query_type, query, **criteria))
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["header"]["status"], "succ", body)
        return body["message"]["search_response"][0]

    @staticmethod
    def expression(query, collection=None):
        value = {"expression": {"query": query}}
        if collection:
            value["expression"]["collection"] = collection
        return {"type": "ns:org:QueryType:expression", "value": value}

    @staticmethod
    def given_names(item):
        return [record["name"]["given_name"] for record in item["data"]["reg_records"]]
