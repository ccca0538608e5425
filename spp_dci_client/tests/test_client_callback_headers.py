# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Callback headers as the spec allows them: no sender_id, receiver_id = our other ids."""

from odoo.tests import tagged

from .test_client_async import CALLBACK_SCOPES, CALLBACK_SECRET, QUERY, ROOT, DCIClientAsyncCase


@tagged("post_install", "-at_install")
class TestCallbackHeaders(DCIClientAsyncCase):
    def test_callback_without_sender_id(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        response = self.deliver(header={"sender_id": None})
        self.assertAck(response)
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        inbox = self.env["spp.dci.inbox"].search([("dci_client_transaction_id", "=", txn.id)])
        self.assertEqual((inbox.dci_data_source_id, inbox.sender_id), (self.source, self.sender))
        self.assertEqual(inbox.signature_state, "verified")
        jobs, calls = self.handled_records()
        self.assertEqual(jobs.mapped("state"), ["done"])
        self.assertEqual(calls[0]["records"][0]["identifier"][0]["identifier_value"], "UIN-0004")

    def test_callback_without_sender_id_still_checked(self):
        sent = self.source._dci_search_async(*QUERY)
        pending = self.stub.pending[0]
        # a signature by someone else than the registry the token names
        self.assertRefused(
            self.deliver(pending=pending, header={"sender_id": None}, mode="forged"),
            401,
            "err.signature.invalid",
            sent,
        )
        # a sender_id that is sent must be the token's client
        self.assertRefused(
            self.deliver(pending=pending, header={"sender_id": "someone.else"}),
            400,
            "err.sender_id.invalid",
            sent,
        )
        # another authenticated caller, no sender_id: the stub's signature is not its own
        other = self.env["spp.dci.sender"].create(
            {
                "name": "Another registry",
                "client_id": "another.registry.test",
                "scopes": CALLBACK_SCOPES,
                "allowed_registry_types": "social",
                "jwks_url": self.stub.jwks_url,
                "jwks_allow_http": True,
                "rate_limit": 0,
            }
        )
        other._dci_set_secret(CALLBACK_SECRET)
        token_url = self.base_url() + ROOT + "/oauth2/client/token"
        self.stub.callback_auth = (token_url, other.client_id, CALLBACK_SECRET)
        self.assertRefused(
            self.deliver(pending=pending, header={"sender_id": None}),
            400,
            "err.sender_id.invalid",
            sent,
        )

    def test_unsigned_callback_without_sender_id_from_a_token_that_is_no_data_source(self):
        sent = self.source._dci_search_async(*QUERY)
        other = self.env["spp.dci.sender"].create(
            {
                "name": "Unsigned registry",
                "client_id": "unsigned.registry.test",
                "scopes": CALLBACK_SCOPES,
                "allowed_registry_types": "social",
                "signature_policy": "off",
                "rate_limit": 0,
            }
        )
        other._dci_set_secret(CALLBACK_SECRET)
        token_url = self.base_url() + ROOT + "/oauth2/client/token"
        self.stub.callback_auth = (token_url, other.client_id, CALLBACK_SECRET)
        entry = self.assertRefused(
            self.deliver(header={"sender_id": None}, mode="unsigned"),
            400,
            "err.sender_id.invalid",
            sent,
        )
        self.assertIn("not a registry this system queries", entry.error)

    def test_receiver_id_is_the_data_sources_own_sender_id(self):
        self.source.sender_id = "openspp.own-id.test"
        sent = self.source._dci_search_async(*QUERY)
        request = self.stub.pending[0]["request"]
        self.assertEqual(request["header"]["sender_id"], "openspp.own-id.test")
        response = self.deliver()  # the stub answers to the id we sent: receiver_id
        self.assertAck(response)
        self.assertEqual(self.transaction(sent).state, "done")

    def test_receiver_id_of_nobody_here(self):
        sent = self.source._dci_search_async(*QUERY)
        entry = self.assertRefused(
            self.deliver(header={"receiver_id": "somebody.else"}),
            400,
            "err.receiver_id.invalid",
            sent,
        )
        self.assertIn("receiver_id", entry.error)
