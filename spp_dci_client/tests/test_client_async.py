# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Async search, subscriptions and our receivers, over real HTTP both ways.

The independent registry (``registry_stub``) answers our requests with an ACK,
then - when the test says so - POSTs its signed callback to the ``sender_uri``
we gave it: a DCI endpoint of this Odoo (spp_dci_server's app), where it first
obtains a token from our ``/oauth2/client/token`` like any DCI caller.
"""

import uuid
from datetime import timedelta
from unittest.mock import patch

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from odoo import fields
from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.peer_keys import PeerKeys
from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DCIClientHttpCase

ROOT = "/dci/test-client"
CALLBACK_SECRET = "callback-secret-0123456789abcdefghij"
CALLBACK_SCOPES = "registry.on-search registry.on-subscribe registry.notify registry.on-status"
RECEIVER_LOGGER = "odoo.addons.spp_dci_client.models.spp_dci_client_receiver"
QUERY = ("idtype-value", {"type": "UIN", "value": "UIN-0004"})


class DCIClientAsyncCase(DCIClientHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI client callbacks (test)",
                "app": "dci",
                "root_path": ROOT,
                "dci_registry_type": "social",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )
        cls.endpoint._handle_registry_sync()
        # no app of an earlier class's endpoint on this root path may serve this one
        fastapi_app_pool.invalidate(cls.env)
        cls.addClassCleanup(fastapi_app_pool.invalidate, cls.env)

    def setUp(self):
        super().setUp()
        self.source.callback_base_url = self.base_url() + ROOT
        # the registry calls us back as a DCI caller of our server: token + signature
        self.sender = self.env["spp.dci.sender"].create(
            {
                "name": "Stub registry (callbacks)",
                "client_id": self.stub.sender_id,
                "scopes": CALLBACK_SCOPES,
                "allowed_registry_types": "social",
                "jwks_url": self.stub.jwks_url,
                "jwks_allow_http": True,
                "rate_limit": 0,
            }
        )
        self.sender._dci_set_secret(CALLBACK_SECRET)
        token_url = self.base_url() + ROOT + "/oauth2/client/token"
        self.stub.callback_auth = (token_url, self.stub.sender_id, CALLBACK_SECRET)

    # -- helpers ------------------------------------------------------------------------

    def deliver(self, **overrides):
        with self.odoo_requests(), mute_logger(RECEIVER_LOGGER):
            return self.stub.deliver(**overrides)

    def notify(self, records, **kwargs):
        with self.odoo_requests(), mute_logger(RECEIVER_LOGGER):
            return self.stub.notify(self.base_url() + ROOT + "/registry/notify", records, **kwargs)

    def transaction(self, sent):
        return self.env["spp.dci.client.transaction"].browse(sent["id"])

    def run_jobs(self):
        """Run the queued DCI jobs through /queue_job/runjob, as the job runner does."""
        self.env.flush_all()
        jobs = self.env["queue.job"].search(
            [("state", "=", "pending"), ("model_name", "like", "spp.dci.%")]
        )
        for job in jobs:
            self.run_queued_job(job)
        return jobs

    def handled_records(self):
        """Run the jobs, recording what reaches the extension point ``_dci_handle_records``."""
        source_class = type(self.env["spp.dci.data.source"])
        original = source_class._dci_handle_records
        calls = []

        def spy(source, records, **kwargs):
            calls.append({"source": source.id, "records": records, **kwargs})
            return original(source, records, **kwargs)

        with patch.object(source_class, "_dci_handle_records", spy):
            jobs = self.run_jobs()
        return jobs, calls

    def assertAck(self, response, action_path="/registry/on-search"):
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        spec.validate_response("social", action_path, body, status=200)
        self.assertEqual(body["message"]["ack_status"], "ACK")
        return body

    def assertRefused(self, response, status, code, sent=None, anonymous_message_id=None):
        """The refusal answer, its log entry, and nothing else written.

        ``anonymous_message_id``: the caller did not authenticate, so its entry holds
        nothing it sent (no ids, no payload); this is the message_id it sent.
        """
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        spec.validate_response("social", "/registry/on-search", body, status=status)
        found = body["errors"][0]["code"] if "errors" in body else body["message"]["error"]["code"]
        self.assertEqual(found, code, body)
        # the refusal is in the exchange log...
        entry = self.logs(direction="incoming")[-1]
        self.assertEqual((entry.status, entry.http_status), ("refused", status))
        self.assertIn(code, entry.error)
        # ...and nothing else was written: no inbox message, no job, the transaction still waits
        if anonymous_message_id:
            self.assertFalse(entry.message_id or entry.transaction_id or entry.data_source_ref)
            self.assertFalse(entry.sudo().request_payload)
            self.assertEqual(entry.remote_address, "127.0.0.1")
        message_id = anonymous_message_id or entry.message_id
        self.assertTrue(message_id)
        self.assertFalse(self.env["spp.dci.inbox"].search([("message_id", "=", message_id)]))
        self.assertFalse(
            self.env["queue.job"].search(
                [("state", "=", "pending"), ("model_name", "=", "spp.dci.inbox")]
            )
        )
        if sent:
            self.assertEqual(self.transaction(sent).state, "pending")
            self.assertEqual(self.transaction(sent).callback_count, 0)
        return entry


@tagged("post_install", "-at_install")
class TestAsyncSearch(DCIClientAsyncCase):
    def test_async_search_round_trip(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        self.assertEqual((txn.state, txn.action, txn.ack_status), ("pending", "search", "ACK"))
        self.assertEqual(txn.transaction_id, sent["transaction_id"])
        self.assertEqual(txn.correlation_id, self.stub.pending[0]["correlation_id"])
        request = self.stub.pending[0]["request"]
        self.assertEqual(
            request["header"]["sender_uri"], self.base_url() + ROOT + "/registry/on-search"
        )
        self.assertStubSawValidRequests(self.stub)

        response = self.deliver()
        self.assertAck(response)
        self.assertEqual(response.json()["message"]["correlation_id"], txn.correlation_id)
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        inbox = self.env["spp.dci.inbox"].search([("dci_client_transaction_id", "=", txn.id)])
        self.assertEqual(inbox.dci_data_source_id, self.source)
        entry = self.logs(direction="incoming")[-1]
        self.assertEqual((entry.action, entry.status, entry.http_status), ("on-search", "ok", 200))
        self.assertEqual(
            (entry.transaction_id, entry.correlation_id), (txn.transaction_id, txn.correlation_id)
        )
        self.assertEqual(entry.data_source_id, self.source)

        jobs, calls = self.handled_records()
        self.assertEqual(jobs.mapped("state"), ["done"])
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["source"], self.source.id)
        self.assertEqual(calls[0]["action"], "on-search")
        self.assertEqual(calls[0]["transaction"], txn)
        self.assertEqual(calls[0]["records"][0]["identifier"][0]["identifier_value"], "UIN-0004")
        self.assertEqual(calls[0]["data"]["reg_record_type"], "Person")
        self.assertEqual(inbox.state, "processed")

    def test_error_ack(self):
        self.stub.mode = "err_ack"
        with self.assertRaisesRegex(
            DCIClientUserError, "refused the request: err.request.bad"
        ) as caught:
            self.source._dci_search_async(*QUERY)
        self.assertEqual(caught.exception.kind, "rejected")
        txn = self.env["spp.dci.client.transaction"].search(
            [("data_source_id", "=", self.source.id)]
        )
        self.assertEqual(txn.state, "rejected")

    def test_forged_callback(self):
        sent = self.source._dci_search_async(*QUERY)
        self.assertRefused(self.deliver(mode="forged"), 401, "err.signature.invalid", sent)

    def test_expired_callback(self):
        sent = self.source._dci_search_async(*QUERY)
        self.assertRefused(self.deliver(mode="expired"), 401, "err.signature.invalid", sent)

    def test_callback_checked_once_with_the_peer_keys(self):
        # the data source and the sender of the registry are one peer: the key pinned
        # through the data source is the one the DCI app checks the callback with
        self.assertEqual(self.sender.peer_id, self.source.peer_id)
        other = ed25519.Ed25519PrivateKey.generate().public_key()
        pem = other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.source.write(
            {
                "jwks_url": False,
                "key_ids": [(0, 0, {"kid": self.stub.kid, "public_key": pem.decode()})],
            }
        )
        self.assertEqual(self.sender.jwks_url, False)
        sent = self.source._dci_search_async(*QUERY)  # an ACK carries no signature to check
        entry = self.assertRefused(self.deliver(), 401, "err.signature.invalid", sent)
        self.assertIn("signature does not verify", entry.error)

    def test_callback_signature_verified_once(self):
        sent = self.source._dci_search_async(*QUERY)
        checks = []
        original = PeerKeys.verify

        def counted(peer, envelope, **kwargs):
            checks.append((peer.dci_id, kwargs.get("callback")))
            return original(peer, envelope, **kwargs)

        with patch.object(PeerKeys, "verify", counted):
            self.assertAck(self.deliver())
        self.assertEqual(checks, [(self.stub.sender_id, True)])
        inbox = self.env["spp.dci.inbox"].search([("transaction_id", "=", sent["transaction_id"])])
        self.assertEqual((inbox.signature_state, inbox.signature_kid), ("verified", self.stub.kid))

    def test_callback_nobody_asked_for(self):
        sent = self.source._dci_search_async(*QUERY)
        entry = self.assertRefused(
            self.deliver(transaction_id=str(uuid.uuid4())), 404, "err.request.not_found", sent
        )
        self.assertIn("no request of ours has this transaction_id", entry.error)

    def test_callback_with_another_correlation_id(self):
        sent = self.source._dci_search_async(*QUERY)
        self.assertRefused(
            self.deliver(correlation_id=str(uuid.uuid4())), 404, "err.request.not_found", sent
        )

    def test_callback_from_a_registry_that_is_no_data_source(self):
        sent = self.source._dci_search_async(*QUERY)
        self.source.active = False
        entry = self.assertRefused(self.deliver(), 400, "err.sender_id.invalid")
        self.assertIn("not a registry this system queries", entry.error)
        self.assertEqual(self.transaction(sent).state, "pending")

    def test_callback_without_token(self):
        sent = self.source._dci_search_async(*QUERY)
        sender_uri, envelope = self.stub.callback_for(self.stub.pending[0])
        with self.odoo_requests(), mute_logger(RECEIVER_LOGGER):
            response = self.stub.post(sender_uri, envelope, token=False)
        self.assertRefused(
            response,
            401,
            "err.request.unauthorized",
            sent,
            anonymous_message_id=envelope["header"]["message_id"],
        )

    def test_second_callback_for_a_done_transaction(self):
        self.source._dci_search_async(*QUERY)
        pending = self.stub.pending[0]
        self.assertAck(self.deliver())
        self.stub.pending.append(pending)
        response = self.deliver()
        self.assertEqual(response.status_code, 404, response.text)
        self.assertIn("our transaction is done", self.logs(direction="incoming")[-1].error)

    def test_expired_transaction(self):
        sent = self.source._dci_search_async(*QUERY)
        self.env["spp.dci.client.transaction"].browse(sent["id"]).write(
            {"deadline": fields.Datetime.now() - timedelta(minutes=1)}
        )
        self.env["spp.dci.client.transaction"]._cron_expire()
        self.assertEqual(self.transaction(sent).state, "expired")
        response = self.deliver()
        self.assertEqual(response.status_code, 404, response.text)

    def test_callback_url_from_the_dci_endpoint_of_the_registry_type(self):
        self.source.write({"callback_base_url": False, "registry_type": "fr"})
        with self.assertRaisesRegex(
            DCIClientUserError, "No DCI endpoint receives callbacks for registry type 'fr'"
        ):
            self.source._dci_search_async(*QUERY)
        self.assertFalse(self.stub.requests, "nothing is sent without a callback URL")
        self.env["fastapi.endpoint"].create(
            {
                "name": "DCI farmer registry (test)",
                "app": "dci",
                "root_path": "/dci/test-fr",
                "dci_registry_type": "fr",
                "user_id": self.env.ref("spp_dci_server.user_dci_server").id,
            }
        )
        web = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.assertEqual(
            self.source._dci_callback_url("search"), web + "/dci/test-fr/registry/on-search"
        )
        self.assertEqual(
            self.source._dci_callback_url("subscribe"), web + "/dci/test-fr/registry/on-subscribe"
        )

    def test_async_transaction_status(self):
        searched = self.source._dci_search_async(*QUERY)
        self.stub.pending.clear()  # the search's own callback never comes
        sent = self.source._dci_txn_status(searched["transaction_id"])
        request = self.stub.pending[0]["request"]
        self.assertEqual(
            request["header"]["sender_uri"], self.base_url() + ROOT + "/registry/txn/on-status"
        )
        self.assertEqual(
            request["message"]["txnstatus_request"]["attribute_value"], searched["transaction_id"]
        )
        self.assertAck(self.deliver(), "/registry/txn/on-status")
        self.assertEqual(self.transaction(sent).state, "done")
        _jobs, calls = self.handled_records()
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["action"], "txn-on-status")
        self.assertEqual(calls[0]["records"], [self.stub.records[0]])
        self.assertEqual(calls[0]["transaction"], self.transaction(sent))
        self.assertStubSawValidRequests(self.stub)

    def test_sync_transaction_status(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        action = txn.action_check_status()
        self.assertIn("succ", action["params"]["message"])
        path, request = self.stub.requests[-1]
        self.assertEqual(path, "/registry/sync/txn/status")
        self.assertEqual(
            request["message"]["txnstatus_request"]["attribute_value"], txn.transaction_id
        )
        self.assertStubSawValidRequests(self.stub)

    def test_txn_status_with_an_empty_search_response(self):
        """No spec file sets minItems: an empty list is a valid answer, sync or async."""
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        self.stub.pending.clear()
        self.stub.empty_answers = True
        action = txn.action_check_status()
        self.assertIn(f"Transaction {txn.transaction_id}: -", action["params"]["message"])
        self.source._dci_txn_status(sent["transaction_id"])
        self.assertAck(self.deliver(), "/registry/txn/on-status")
        self.assertFalse(self.stub.reply_errors, "the empty list is valid per the spec")
        self.assertStubSawValidRequests(self.stub)

    def test_on_search_with_an_empty_search_response(self):
        self.stub.empty_answers = True
        sent = self.source._dci_search_async(*QUERY)
        self.assertAck(self.deliver(), "/registry/on-search")
        txn = self.transaction(sent)
        self.assertEqual((txn.state, txn.record_count), ("done", 0))


@tagged("post_install", "-at_install")
class TestSubscriptions(DCIClientAsyncCase):
    def subscribe(self):
        sent = self.source._dci_subscribe(
            "REGISTER", "idtype-value", {"type": "UIN", "value": "UIN-0001"}, "Person"
        )
        self.assertEqual(
            self.stub.pending[0]["request"]["header"]["sender_uri"],
            self.base_url() + ROOT + "/registry/on-subscribe",
        )
        self.assertAck(self.deliver(), "/registry/on-subscribe")
        return sent

    def test_subscribe_notify_unsubscribe(self):
        sent = self.subscribe()
        self.assertEqual(self.transaction(sent).state, "done")
        subscription = self.source.subscription_ids
        self.assertEqual((subscription.state, subscription.reg_event_type), ("active", "REGISTER"))
        self.assertIn(subscription.code, self.stub.subscriptions)
        self.run_jobs()

        # a notify from the registry reaches the handler
        self.assertAck(
            self.notify([self.stub.records[0], self.stub.records[1]]), "/registry/notify"
        )
        self.assertEqual(subscription.notify_count, 1)
        _jobs, calls = self.handled_records()
        self.assertEqual([c["action"] for c in calls], ["notify", "notify"])
        self.assertEqual(calls[0]["records"], [self.stub.records[0]])
        self.assertFalse(calls[0]["transaction"])

        # unsubscribe: the on-unsubscribe closes the subscription; notifies are refused again
        subscription.action_unsubscribe()
        self.assertEqual(subscription.state, "unsubscribing")
        self.assertEqual(
            self.stub.pending[0]["request"]["message"]["subscription_codes"], [subscription.code]
        )
        self.assertAck(self.deliver(), "/registry/on-unsubscribe")
        self.assertEqual(subscription.state, "cancelled")
        self.run_jobs()
        self.assertRefused(self.notify([self.stub.records[2]]), 404, "err.request.not_found")
        self.assertStubSawValidRequests(self.stub)

    def test_notify_without_subscription(self):
        entry = self.assertRefused(
            self.notify([self.stub.records[0]]), 404, "err.request.not_found"
        )
        self.assertIn("no active subscription", entry.error)

    def test_forged_notify(self):
        self.subscribe()
        self.run_jobs()
        self.assertRefused(
            self.notify([self.stub.records[0]], mode="forged"), 401, "err.signature.invalid"
        )


@tagged("post_install", "-at_install")
class TestUnauthenticatedCallbacks(DCIClientAsyncCase):
    """Anonymous POSTs to our receivers: no payload stored, limited before any write."""

    def post_anonymous(self, url, envelope, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with self.odoo_requests(), mute_logger(RECEIVER_LOGGER):
            return httpx.post(url, json=envelope, headers=headers, timeout=60)

    def test_unauthenticated_callbacks_write_no_payload(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "spp_dci_server.auth_failure_limit_address", "3"
        )
        sent = self.source._dci_search_async(*QUERY)
        sender_uri, envelope = self.stub.callback_for(self.stub.pending[0])
        big = dict(envelope, padding="x" * 250_000)  # within the endpoint's 1 MiB
        before = self.logs(direction="incoming")
        answers = [
            self.post_anonymous(sender_uri, big, token=token)
            for token in (None, "not.a.jwt", None, None, "not.a.jwt")
        ]
        self.assertEqual([a.status_code for a in answers], [401, 401, 401, 429, 429])
        throttled = answers[3].json()
        spec.validate_response("social", "/registry/on-search", throttled, status=429)
        self.assertEqual(throttled["message"]["error"]["code"], "err.request.too_many_requests")
        self.assertTrue(answers[3].headers.get("Retry-After"))
        entries = self.logs(direction="incoming") - before
        # three refusals logged, without anything the caller sent; the 429s wrote nothing
        self.assertEqual(entries.mapped("http_status"), [401, 401, 401])
        self.assertEqual(set(entries.mapped("status")), {"refused"})
        for entry in entries.sudo():
            self.assertFalse(entry.request_payload)
            self.assertFalse(entry.message_id or entry.transaction_id or entry.data_source_ref)
            self.assertIn("err.request.unauthorized", entry.error)
            self.assertEqual(entry.remote_address, "127.0.0.1")
        self.env.cr.execute(
            "SELECT count(*) FROM spp_dci_auth_failure WHERE key = 'callback:127.0.0.1'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 3, "counted in the database, 429s excluded")
        self.assertEqual(self.transaction(sent).state, "pending")

        # the registry itself, authenticated, is still heard from this address, with its payload
        response = self.deliver()
        self.assertAck(response)
        entry = self.logs(direction="incoming")[-1].sudo()
        self.assertEqual((entry.status, entry.http_status), ("ok", 200))
        self.assertIn(self.transaction(sent).transaction_id, entry.request_payload)
        inbox = self.env["spp.dci.inbox"].search(
            [("dci_client_transaction_id", "=", self.transaction(sent).id)]
        )
        self.assertEqual(entry.message_id, inbox.message_id)
        self.assertEqual(self.transaction(sent).state, "done")
