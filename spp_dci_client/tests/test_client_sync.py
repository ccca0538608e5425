# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The client against an independent minimal registry, over real HTTP (sync side)."""

import time

from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import CLIENT_SECRET, DCIClientHttpCase


@tagged("post_install", "-at_install")
class TestSyncSearch(DCIClientHttpCase):
    def test_sync_search_idtype_value(self):
        result = self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0002"})
        item = result.message.search_response[0]
        self.assertEqual(item.status.value, "succ")
        self.assertEqual(item.data.reg_records[0]["identifier"][0]["identifier_value"], "UIN-0002")
        self.assertEqual(
            result.key_id, self.stub.kid, "the answer's signature was verified with the JWKS key"
        )
        self.assertStubSawValidRequests(self.stub)
        # the request carried our ids, the registry's receiver id and the registry type code
        path, request = self.stub.requests[-1]
        self.assertEqual(path, "/registry/sync/search")
        self.assertEqual(request["header"]["receiver_id"], self.stub.sender_id)
        self.assertEqual(
            request["header"]["sender_id"], self.env["spp.dci.signing.key"]._dci_sender_id()
        )
        self.assertEqual(
            request["message"]["search_request"][0]["search_criteria"]["reg_type"],
            "ns:org:RegistryType:Social",
        )
        # exchange log: the token request and the search, with ids and timings
        token_log, search_log = self.logs(data_source_ref=self.source.id)
        self.assertEqual((token_log.action, token_log.status), ("oauth2-token", "ok"))
        self.assertNotIn(CLIENT_SECRET, token_log.request_payload or "")
        self.assertNotIn(next(iter(self.stub.tokens)), token_log.response_payload)
        self.assertEqual(
            (search_log.action, search_log.status, search_log.http_status), ("search", "ok", 200)
        )
        self.assertEqual(search_log.direction, "outgoing")
        self.assertEqual(search_log.transaction_id, result.message.transaction_id)
        self.assertEqual(search_log.correlation_id, result.message.correlation_id)
        self.assertEqual(search_log.data_source_id, self.source)
        self.assertGreaterEqual(search_log.duration_ms, 0)
        self.assertIn("UIN-0002", search_log.response_payload)

    def test_every_query_type_is_sent_spec_valid(self):
        expression = {
            "type": "ns:org:QueryType:expression",
            "value": {
                "expression": {"collection": "Person", "query": {"$and": [{"age": {"$gt": 18}}]}}
            },
        }
        predicate = [
            {
                "seq_num": 1,
                "expression1": {
                    "attribute_name": "sex",
                    "operator": "eq",
                    "attribute_value": "female",
                },
            }
        ]
        for query_type, query in (("expression", expression), ("predicate", predicate)):
            result = self.source._dci_sync_search(query_type, query, reg_event_type="REGISTER")
            self.assertEqual(len(result.message.search_response[0].data.reg_records), 7, query_type)
        sent = [
            r["message"]["search_request"][0]["search_criteria"]["query_type"]
            for _p, r in self.stub.requests
        ]
        self.assertEqual(sent, ["expression", "predicate"])
        self.assertStubSawValidRequests(self.stub)

    def test_registry_specific_sync_endpoint(self):
        message = {
            "transaction_id": "dr-check-1",
            "disabled_criteria": {
                "query_type": "idtype-value",
                "query": {"type": "UIN", "value": "7"},
            },
        }
        result = self.source._dci_sync_call("/registry/sync/disabled", message)
        self.assertEqual(result.message.disabled_response[0].disabled_status.value, "yes")
        self.assertEqual(result.key_id, self.stub.kid)
        self.assertEqual(self.stub.requests[-1][0], "/registry/sync/disabled")
        self.assertStubSawValidRequests(self.stub)
        with self.assertRaisesRegex(DCIClientUserError, "is not a synchronous endpoint"):
            self.source._dci_sync_call("/registry/search", message)

    def test_invalid_criteria_are_not_sent(self):
        with self.assertRaises(DCIClientUserError):
            self.source._dci_sync_search("predicate", {"type": "UIN", "value": "x"})
        self.assertFalse(self.stub.requests)

    def test_paging_through_all_pages_is_lazy(self):
        records = self.source._dci_iter_records(
            "expression", {"type": "all", "value": {"expression": {"query": {}}}}
        )
        first = [next(records) for _i in range(3)]
        self.assertEqual(len(self.stub.requests), 1, "the second page is fetched only when needed")
        rest = list(records)
        values = [r["identifier"][0]["identifier_value"] for r in first + rest]
        self.assertEqual(values, [f"UIN-{i:04d}" for i in range(1, 8)])
        pages = [
            r["message"]["search_request"][0]["search_criteria"]["pagination"]
            for _p, r in self.stub.requests
        ]
        self.assertEqual(pages, [{"page_size": 3, "page_number": n} for n in (1, 2, 3)])
        self.assertStubSawValidRequests(self.stub)
        self.assertEqual(len(self.logs(action="search", status="ok")), 3)

    def test_rejected_page_stops_paging(self):
        self.stub.mode = "rjct"
        with self.assertRaisesRegex(
            DCIClientUserError, "rejected page 1: rjct.search_criteria.invalid"
        ):
            list(self.source._dci_iter_records("idtype-value", {"type": "UIN", "value": "nobody"}))

    def test_empty_search_response_ends_paging(self):
        """An answer with no ``search_response`` item is spec-valid: no records, no error."""
        self.stub.empty_answers = True
        records = list(
            self.source._dci_iter_records(
                "expression", {"type": "all", "value": {"expression": {"query": {}}}}
            )
        )
        self.assertEqual(records, [])
        self.assertEqual(len(self.stub.requests), 1)
        self.assertFalse(self.stub.reply_errors, "the empty list is valid per the spec")
        self.assertEqual(len(self.logs(action="search", status="ok")), 1)


@tagged("post_install", "-at_install")
class TestAuthentication(DCIClientHttpCase):
    def test_oauth2_token_is_cached(self):
        for _i in range(3):
            self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(self.stub.token_requests, 1)

    def test_oauth2_token_refreshed_shortly_before_expiry(self):
        self.stub.token_lifetime = 2  # cached until 0.2 s before expiry
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(self.stub.token_requests, 1)
        time.sleep(2)
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(self.stub.token_requests, 2)

    def test_oauth2_token_refreshed_once_on_401(self):
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.stub.tokens.clear()  # the registry forgets every token it issued
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(self.stub.token_requests, 2)
        refused, accepted = self.logs(action="search")[-2:]
        self.assertEqual(
            (refused.http_status, refused.status, refused.error_kind), (401, "error", "auth")
        )
        self.assertEqual((accepted.http_status, accepted.status, accepted.attempt), (200, "ok", 2))

    def test_oauth2_refresh_is_not_retried_forever(self):
        self.stub.accept_tokens = False  # tokens are issued but never accepted
        with self.assertRaisesRegex(
            DCIClientUserError, "HTTP 401: the registry refused our access token"
        ):
            self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(self.stub.token_requests, 2, "one token, then exactly one refresh")
        self.assertEqual(len(self.logs(action="search")), 2)

    def test_oauth2_wrong_secret(self):
        self.source.oauth2_client_secret = "not-the-secret"
        with self.assertRaisesRegex(
            DCIClientUserError, "refused our OAuth2 client id/secret"
        ) as caught:
            self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        self.assertEqual(caught.exception.kind, "auth")
        self.assertFalse([p for p, _b in self.stub.requests if p.startswith("/registry")])

    def test_static_bearer_token(self):
        self.stub.auth = ("bearer", "static-token-value")
        self.source.write({"auth_type": "bearer", "bearer_token": "static-token-value"})
        result = self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0003"})
        self.assertEqual(len(result.message.search_response[0].data.reg_records), 1)
        self.assertEqual(self.stub.token_requests, 0)

    def test_secrets_are_write_only(self):
        self.source.write({"bearer_token": "static-token-value"})
        self.assertFalse(self.source.bearer_token)
        self.assertFalse(self.source.oauth2_client_secret)
        self.assertTrue(self.source.has_bearer_token)
        self.assertTrue(self.source.has_oauth2_client_secret)
        data = self.source.read(["bearer_token", "oauth2_client_secret"])[0]
        self.assertFalse(data["bearer_token"] or data["oauth2_client_secret"])
        admin = self.env["res.users"].create(
            {
                "name": "DCI administrator",
                "login": "dci_admin_test",
                "group_ids": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("spp_dci.group_dci_admin").id,
                            self.env.ref("base.group_system").id,
                        ],
                    )
                ],
            }
        )
        self.assertFalse(self.source.with_user(admin).read(["bearer_token"])[0]["bearer_token"])
        with self.assertRaises(AccessError):
            self.env["spp.dci.secret"].with_user(admin).search(
                []
            )  # not even a system administrator
        self.assertNotIn(CLIENT_SECRET, str(self.source._dci_settings()))
        self.source.action_clear_credentials()
        self.assertFalse(self.source.has_bearer_token or self.source.has_oauth2_client_secret)

    def test_payloads_are_for_dci_administrators_only(self):
        self.source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        user = self.env["res.users"].create(
            {
                "name": "DCI case worker",
                "login": "dci_case_worker",
                "group_ids": [(6, 0, [self.env.ref("spp_dci.group_dci_user").id])],
            }
        )
        log = self.logs(action="search").with_user(user)
        self.assertEqual(log.status, "ok")  # the log itself is readable
        with self.assertRaises(AccessError):
            log.read(["request_payload"])
        with self.assertRaises(AccessError):
            log.read(["response_payload"])


@tagged("post_install", "-at_install")
class TestDataSourceForm(DCIClientHttpCase):
    def test_form_fills_spec_defaults_and_hides_secrets(self):
        with Form(self.env["spp.dci.data.source"]) as form:
            form.name = "CRVS"
            form.registry_type = "crvs"
            form.base_url = "https://crvs.example.org/dci"
            form.registry_sender_id = "crvs.example.org"
            form.oauth2_client_id = "openspp"
            form.oauth2_client_secret = "typed-once"
            self.assertEqual(form.jwks_url, "https://crvs.example.org/dci/.well-known/jwks.json")
            self.assertEqual(form.reg_type, "ns:org:RegistryType:Civil")
            self.assertEqual(form.path_sync_search, "/registry/sync/search")
            self.assertEqual(form.path_txn_status, "/registry/txn/status")
        source = form.record
        self.assertFalse(source.oauth2_client_secret, "never shown again")
        self.assertTrue(source.has_oauth2_client_secret)
        self.assertEqual(
            source._dci_token_url(), "https://crvs.example.org/dci/oauth2/client/token"
        )
        self.assertEqual(source._dci_settings().oauth2.client_secret, "typed-once")
        # saving the form again without typing a secret keeps the stored one
        with Form(source) as form:
            form.timeout = 12
        self.assertEqual(source._dci_settings().oauth2.client_secret, "typed-once")

    def test_one_active_data_source_per_registry_sender_id(self):
        with self.assertRaises(ValidationError):
            self.make_source(self.stub, name="Duplicate")
