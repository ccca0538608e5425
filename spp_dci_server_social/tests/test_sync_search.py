import base64
import json
import uuid

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.tests import tagged

from .common import SURNAME, SocialCase


@tagged("post_install", "-at_install")
class TestSyncSearch(SocialCase):
    """POST /dci/social/registry/sync/search over real HTTP: every query type."""

    def test_idtype_value_person(self):
        response, body = self.sync_search(
            self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        )
        self.assertEqual(response.status_code, 200)
        header = body["header"]
        self.assertEqual(header["action"], "on-search")
        self.assertEqual(header["status"], "succ")
        self.assertEqual(header["sender_id"], self.our_id)
        self.assertEqual(header["receiver_id"], "spmis-test")
        self.assertEqual((header["total_count"], header["completed_count"]), (1, 1))
        item = body["message"]["search_response"][0]
        self.assertEqual(item["status"], "succ")
        data = item["data"]
        self.assertEqual(data["reg_type"], "ns:org:RegistryType:Social")
        self.assertEqual(data["reg_record_type"], "Person")
        self.assertEqual(item["pagination"], {"page_size": 100, "page_number": 1, "total_count": 1})
        [alice] = data["reg_records"]
        self.assertEqual(alice["@type"], "SRPerson")
        self.assertEqual(
            alice["name"], {"@type": "Name", "given_name": "Alice", "surname": SURNAME}
        )
        self.assertEqual(alice["sex"], "female")
        self.assertEqual(alice["birth_date"], "1985-05-20")
        self.assertEqual(alice["phone_number"], "+15550001")
        self.assertEqual(alice["registration_date"], "2022-01-10")
        self.assertEqual(
            alice["address"],
            {
                "@type": "Address",
                "address_line_1": "123 Main St",
                "locality": "Anytown",
                "postal_code": "12345",
                "country_code": "US",
            },
        )
        identifiers = {(i["identifier_type"], i["identifier_value"]) for i in alice["identifier"]}
        self.assertEqual(identifiers, {("UIN", "ZB-UIN-001"), ("NID", "ZB-NID-001")})
        # signed by us (DCI body signature and RFC 9421), recorded as a done transaction
        verified = self.assertSignedByUs(body)
        self.assertEqual(verified.sender_id, self.our_id)
        self.assertHttpSigned(response)
        txn = self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", body["message"]["correlation_id"])]
        )
        self.assertEqual(
            (txn.state, txn.mode, txn.action, txn.signature_state),
            ("done", "sync", "search", "verified"),
        )
        self.assertEqual(txn.sender_id, self.sender)

    def test_idtype_value_no_match_and_prefixed_type(self):
        item = self.one("idtype-value", {"type": "UIN", "value": "ZB-UIN-404"})
        self.assertEqual(item["data"]["reg_records"], [])
        self.assertEqual(item["pagination"]["total_count"], 0)
        item = self.one("idtype-value", {"type": "ns:org:IdType:NID", "value": " ZB-NID-001 "})
        self.assertEqual(self.given_names(item), ["Alice"])

    def test_expression_and_or_in_lt(self):
        query = {"$and": [{"surname": {"$eq": SURNAME}}, {"sex": {"$eq": "female"}}]}
        item = self.one(
            "expression",
            self.expression(query),
            sort=[{"attribute_name": "birth_date", "sort_order": "desc"}],
        )
        self.assertEqual(self.given_names(item), ["Daisy", "Alice"])
        query = {
            "name.surname": {"$eq": SURNAME},
            "$or": [
                {"birth_date": {"$lt": "1983-01-01"}},
                {"given_name": {"$in": ["Daisy", "Nobody"]}},
            ],
        }
        item = self.one(
            "expression", self.expression(query), sort=[{"attribute_name": "given_name"}]
        )
        self.assertEqual(self.given_names(item), ["Bob", "Daisy"])
        # $not and an identifier attribute; the sample messages' demographic_info.person.sex form
        query = {
            "$and": [
                {"surname": {"$eq": SURNAME}},
                {"$not": {"UIN": {"$in": ["ZB-UIN-001", "ZB-UIN-002"]}}},
                {"demographic_info.person.sex": {"$eq": "male"}},
            ]
        }
        item = self.one("expression", self.expression(query))
        self.assertEqual(self.given_names(item), ["Charlie"])

    def test_expression_group_collection(self):
        query = {"$and": [{"group_size": {"$ge": 4}}, {"NID": {"$eq": "ZB-HH-001"}}]}
        item = self.one(
            "expression", self.expression(query, collection="Group"), response_entity="Group"
        )
        data = item["data"]
        self.assertEqual(data["reg_record_type"], "Group")
        [group] = data["reg_records"]
        self.assertEqual(group["@type"], "Group")
        self.assertEqual(group["group_size"], 4)
        self.assertEqual(group["group_identifier"][0]["identifier_value"], "ZB-HH-001")
        head = group["group_head_info"]
        self.assertEqual(head["@type"], "Member")
        self.assertEqual(head["demographic_info"]["name"]["given_name"], "Alice")
        self.assertEqual(head["relationship_head"], "SELF")
        members = {m["demographic_info"]["name"]["given_name"]: m for m in group["member_list"]}
        self.assertEqual(set(members), {"Alice", "Bob", "Charlie", "Daisy"})
        self.assertEqual(
            members["Charlie"]["member_identifier"][0]["identifier_value"], "ZB-UIN-003"
        )
        # the group is not a person: the same identifier finds nothing as Person
        item = self.one("idtype-value", {"type": "NID", "value": "ZB-HH-001"})
        self.assertEqual(item["data"]["reg_records"], [])

    def test_record_type_disagreement_is_one_reason_whatever_the_attributes(self):
        """The collection is checked before the attributes: always rjct.search_criteria.invalid."""
        cases = [
            # an attribute only the collection has (read as Person it would be unknown)
            ("group-only", {"group_size": {"$ge": 4}}, "Group", {"reg_record_type": "Person"}),
            # an attribute both record types have
            ("shared", {"address.locality": {"$eq": "Anytown"}}, "Group", {}),
            # an attribute only the requested record type has
            ("person-only", {"surname": {"$eq": SURNAME}}, "Person", {"response_entity": "Group"}),
            # an attribute neither has: the disagreement is still what is reported
            ("unknown", {"poverty_score": {"$lt": 5}}, "Group", {"response_entity": "Member"}),
        ]
        items = [
            self.search_item(
                "expression",
                self.expression(query, collection=collection),
                reference_id=reference,
                **(named or {"reg_record_type": "Person"}),
            )
            for reference, query, collection, named in cases
        ]
        response, body = self.sync_search(*items)
        self.assertEqual(response.status_code, 200)
        results = body["message"]["search_response"]
        self.assertEqual(
            [(r["reference_id"], r["status_reason_code"]) for r in results],
            [(reference, "rjct.search_criteria.invalid") for reference, *_rest in cases],
        )
        for result in results:
            self.assertIn("is not the requested record type", result["status_reason_message"])
        # the collection alone names the record type: no disagreement
        item = self.one("expression", self.expression({"group_size": {"$ge": 4}}, "Group"))
        self.assertEqual(item["data"]["reg_record_type"], "Group")

    def test_predicate(self):
        query = [
            {
                "seq_num": 2,
                "expression1": {
                    "attribute_name": "sex",
                    "operator": "in",
                    "attribute_value": "male, female",
                },
            },
            {
                "seq_num": 1,
                "expression1": {
                    "attribute_name": "surname",
                    "operator": "eq",
                    "attribute_value": SURNAME,
                },
                "condition": "and",
                "expression2": {
                    "attribute_name": "birth_date",
                    "operator": "ge",
                    "attribute_value": "2010-01-01",
                },
            },
            {
                "seq_num": 3,
                "expression1": {
                    "attribute_name": "given_name",
                    "operator": "eq",
                    "attribute_value": "Daisy",
                },
                "condition": "not",
            },
        ]
        item = self.one("predicate", query)
        self.assertEqual(self.given_names(item), ["Charlie"])
        query = [
            {
                "expression1": {
                    "attribute_name": "UIN",
                    "operator": "eq",
                    "attribute_value": "ZB-UIN-002",
                },
                "condition": "or",
                "expression2": {
                    "attribute_name": "UIN",
                    "operator": "eq",
                    "attribute_value": "ZB-UIN-003",
                },
            }
        ]
        item = self.one(
            "predicate", query, sort=[{"attribute_name": "given_name", "sort_order": "desc"}]
        )
        self.assertEqual(self.given_names(item), ["Charlie", "Bob"])

    def test_member_record_type(self):
        item = self.one(
            "idtype-value", {"type": "UIN", "value": "ZB-UIN-004"}, response_entity="Member"
        )
        self.assertEqual(item["data"]["reg_record_type"], "Member")
        [member] = item["data"]["reg_records"]
        self.assertEqual(member["@type"], "Member")
        self.assertEqual(member["member_identifier"][0]["identifier_value"], "ZB-UIN-004")
        self.assertEqual(member["demographic_info"]["birth_date"], "2012-09-22")
        item = self.one(
            "idtype-value", {"type": "UIN", "value": "ZB-UIN-004"}, reg_record_type="spdci:SRPerson"
        )
        self.assertEqual(item["data"]["reg_record_type"], "Person")

    def test_pagination_and_sort(self):
        query = self.expression({"surname": {"$eq": SURNAME}})
        sort = [{"attribute_name": "given_name", "sort_order": "asc"}]
        first = self.one(
            "expression", query, sort=sort, pagination={"page_size": 3, "page_number": 1}
        )
        self.assertEqual(self.given_names(first), ["Alice", "Bob", "Charlie"])
        self.assertEqual(first["pagination"], {"page_size": 3, "page_number": 1, "total_count": 4})
        second = self.one(
            "expression", query, sort=sort, pagination={"page_size": 3, "page_number": 2}
        )
        self.assertEqual(self.given_names(second), ["Daisy"])
        self.assertEqual(second["pagination"]["total_count"], 4)
        beyond = self.one(
            "expression", query, sort=sort, pagination={"page_size": 3, "page_number": 9}
        )
        self.assertEqual(beyond["data"]["reg_records"], [])
        self.assertEqual(beyond["pagination"]["total_count"], 4)
        by_age = self.one(
            "expression",
            query,
            sort=[{"attribute_name": "birth_date", "sort_order": "asc"}],
            pagination={"page_size": 2},
        )
        self.assertEqual(self.given_names(by_age), ["Bob", "Alice"])

    def test_rejections_per_item(self):
        """One batch, one reason per bad item; the good item is still answered."""
        surname = {"surname": {"$eq": SURNAME}}
        duplicate_ref = str(uuid.uuid4())
        items = [
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-001"}, reference_id="good"
            ),
            self.search_item(
                "expression", self.expression({"poverty_score": {"$lt": 5}}), reference_id="attr"
            ),
            self.search_item(
                "expression", self.expression({"sex": {"$regex": "f.*"}}), reference_id="op"
            ),
            self.search_item(
                "expression",
                self.expression({"birth_date": {"$lt": "yesterday"}}),
                reference_id="val",
            ),
            self.search_item(
                "expression",
                self.expression(surname),
                reference_id="sort",
                sort=[{"attribute_name": "phone_number"}],
            ),
            self.search_item(
                "expression",
                self.expression(surname),
                reference_id="page",
                pagination={"page_size": 101},
            ),
            self.search_item(
                "idtype-value", {"type": "PASSPORT", "value": "1"}, reference_id="idtype"
            ),
            self.search_item("predicate", {"type": "UIN", "value": "1"}, reference_id="shape"),
            self.search_item(
                "expression",
                self.expression(surname, collection="Group"),
                reference_id="coll",
                response_entity="Member",
            ),
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "x"}, reference_id=duplicate_ref
            ),
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "x"}, reference_id=duplicate_ref
            ),
            {
                **self.search_item(
                    "idtype-value", {"type": "UIN", "value": "x"}, reference_id="ts"
                ),
                "timestamp": "yesterday",
            },
            {
                "timestamp": "2024-01-01T00:00:00Z",
                "search_criteria": {
                    "query_type": "idtype-value",
                    "query": {"type": "UIN", "value": "x"},
                },
            },
        ]
        response, body = self.sync_search(*items)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(body["header"]["status"], "succ")
        self.assertEqual(body["header"]["completed_count"], len(items))
        results = body["message"]["search_response"]
        self.assertEqual(len(results), len(items))
        codes = [(r["reference_id"], r["status"], r.get("status_reason_code")) for r in results]
        self.assertEqual(
            codes,
            [
                ("good", "succ", None),
                ("attr", "rjct", "rjct.filter.invalid"),
                ("op", "rjct", "rjct.filter.invalid"),
                ("val", "rjct", "rjct.filter.invalid"),
                ("sort", "rjct", "rjct.sort.invalid"),
                ("page", "rjct", "rjct.pagination.invalid"),
                ("idtype", "rjct", "rjct.search_criteria.invalid"),
                ("shape", "rjct", "rjct.search_criteria.invalid"),
                ("coll", "rjct", "rjct.search_criteria.invalid"),
                (duplicate_ref, "succ", None),
                (duplicate_ref, "rjct", "rjct.reference_id.duplicate"),
                ("ts", "rjct", "rjct.timestamp.invalid"),
                ("item-13", "rjct", "rjct.reference_id.invalid"),
            ],
        )
        self.assertIn("poverty_score", results[1]["status_reason_message"])
        self.assertEqual(len(results[0]["data"]["reg_records"]), 1)

    def test_too_many_records_without_pagination(self):
        small = self.endpoint.copy(
            {
                "name": "DCI social (small pages)",
                "root_path": "/dci/social-small",
                "dci_max_page_size": 3,
            }
        )
        small._handle_registry_sync()
        self.root = small.root_path
        token = self.get_token()
        query = self.expression({"surname": {"$eq": SURNAME}})
        response = self.post(
            "/registry/sync/search",
            self.search_envelope(self.search_item("expression", query)),
            token=token,
        )
        body = self.assertSpecResponse("/registry/sync/search", response)
        item = body["message"]["search_response"][0]
        self.assertEqual(item["status_reason_code"], "rjct.search.too_many_records_found", item)
        response = self.post(
            "/registry/sync/search",
            self.search_envelope(
                self.search_item("expression", query, pagination={"page_size": 4})
            ),
            token=token,
        )
        item = self.assertSpecResponse("/registry/sync/search", response)["message"][
            "search_response"
        ][0]
        self.assertEqual(item["status_reason_code"], "rjct.pagination.invalid", item)


@tagged("post_install", "-at_install")
class TestEndpointSenderId(SocialCase):
    """An endpoint can answer as its own DCI id (several registries on one server)."""

    @classmethod
    def _make_endpoint(cls):
        endpoint = super()._make_endpoint()
        endpoint.dci_sender_id = "sr.example.gov"
        endpoint.flush_recordset()
        # Running servers rebuild apps when the change commits; inside the test transaction
        # we drop the pooled app ourselves, now and after the rollback.
        fastapi_app_pool.invalidate(cls.env)
        cls.addClassCleanup(fastapi_app_pool.invalidate, cls.env)
        return endpoint

    def test_replies_tokens_and_signatures_use_the_endpoint_id(self):
        self.assertEqual(self.our_id, "sr.example.gov")
        response, body = self.sync_search(
            self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        )
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["header"]["sender_id"], "sr.example.gov")
        self.assertEqual(self.assertSignedByUs(body).sender_id, "sr.example.gov")
        # a caller addressing the system-wide id is addressing another registry
        response = self.post(
            "/registry/sync/search",
            self.search_envelope(
                self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"}),
                receiver_id=self.env["spp.dci.signing.key"]._dci_sender_id(),
            ),
        )
        self.assertNotEqual(response.status_code, 200)

    def test_an_integrator_learns_our_receiver_id(self):
        """Without a token: /openapi.json's info.x-dci-receiver-id; then the token's iss."""
        doc = self.url_open(self.url("/openapi.json")).json()
        self.assertEqual(doc["info"]["x-dci-receiver-id"], "sr.example.gov")
        payload = self.token().split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["iss"], "sr.example.gov")
