# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Outbound, social: the demo data source searches this project's own /dci/social.

This OpenSPP is both sides: its client (the demo data source "This OpenSPP:
Social Registry") calls its own registry server over HTTP, which knows it as
the demo sender ``openspp``; for async requests the server calls back our
receivers on the same DCI app. Nothing here is configured by the test: it is
what the demo data gives an administrator.
"""

import contextlib
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.addons.spp_dci_server.services.callbacks import DeliveryGaveUp
from odoo.tests import tagged

from .common import DemoCase


@tagged("post_install", "-at_install")
class TestClientAgainstOwnServer(DemoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env.ref("spp_dci_demo.demo_source_social")
        cls.our_id = cls.env["spp.dci.signing.key"]._dci_sender_id()

    def test_connection_button(self):
        with self.served():
            self.source.with_user(self.env.ref("base.user_admin")).action_test_connection()
        self.assertTrue(self.source.last_check_ok, self.source.last_check_message)
        self.assertIn("OAuth2: token obtained", self.source.last_check_message)
        self.assertIn(f"signed by {self.our_id} with key", self.source.last_check_message)

    def test_reconnect_demo_loops(self):
        """DCI > Demo > Reconnect Demo Loops: new secrets on both sides, still connected."""
        sender = self.env.ref("spp_dci_demo.demo_sender_openspp")
        before = sender.sudo().client_secret_hash
        action = self.env.ref("spp_dci_demo.action_dci_demo_connect_loops")
        result = action.with_user(self.env.ref("base.user_admin")).run()
        self.assertIn(self.source.name, result["params"]["message"])
        self.assertNotEqual(sender.sudo().client_secret_hash, before)
        self.assertEqual(len(self.source.key_ids), 1, "the pinned key is not duplicated")
        with self.served():
            ok, message = self.source._dci_check_connection()
        self.assertTrue(ok, message)

    def test_sync_search_with_paging(self):
        query = {
            "type": "ns:org:QueryType:expression",
            "value": {"expression": {"query": {"surname": {"$eq": "Santos"}}}},
        }
        with self.served():
            records = list(
                self.source.with_user(self.case_worker)._dci_iter_records(
                    "expression", query, page_size=3, reg_record_type="Person"
                )
            )
        self.assertEqual(
            sorted(r["name"]["given_name"] for r in records), ["Ana", "Jose", "Maria", "Paolo"]
        )
        pages = self.assertSpecAnswers("social", self.source)
        self.assertEqual(len(pages), 2, "four records, three per page")

    def test_sync_search_by_id(self):
        with self.served():
            result = self.source._dci_sync_search(
                "idtype-value", {"type": "BRN", "value": "DEMO-BRN-0004"}
            )
        self.assertEqual(result.header.sender_id, self.our_id)
        [record] = result.message.search_response[0].data.reg_records
        self.assertEqual(record["name"]["given_name"], "Paolo")

    def test_async_search_round_trip(self):
        source_class = type(self.env["spp.dci.data.source"])
        original = source_class._dci_handle_records
        calls = []

        def spy(source, records, **kwargs):
            calls.append((source.id, records, kwargs))
            return original(source, records, **kwargs)

        with trap_jobs() as trap, contextlib.ExitStack() as stack:
            with self.served():
                sent = self.source.with_user(self.case_worker)._dci_search_async(
                    "idtype-value", {"type": "UIN", "value": "DEMO-UIN-0007"}
                )
            txn = self.env["spp.dci.client.transaction"].browse(sent["id"])
            self.assertEqual((txn.state, txn.ack_status), ("pending", "ACK"))
            self.assertTrue(txn.correlation_id)
            stack.enter_context(patch.object(source_class, "_dci_handle_records", spy))
            ran = self.run_jobs(trap)
        # the server's batch job answered, its send job delivered; our receiver accepted;
        # the inbox job handled
        self.assertEqual(
            ran,
            [
                "spp.dci.transaction._dci_answer_queued",
                "spp.dci.transaction._dci_send_first_attempts",
                "spp.dci.inbox._dci_dispatch",
            ],
        )
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        [(source_id, records, kwargs)] = calls
        self.assertEqual(source_id, self.source.id)
        self.assertEqual(records[0]["name"]["given_name"], "Miguel")
        self.assertEqual(kwargs["action"], "on-search")
        incoming = self.exchanges(self.source, direction="incoming")
        self.assertEqual((incoming.action, incoming.status), ("on-search", "ok"))
        self.assertEqual(incoming.transaction_id, txn.transaction_id)

    def test_our_callbacks_carry_the_http_signature_our_receivers_require(self):
        """The RFC 9421 signature our server puts on its callbacks passes our own receivers'
        verification, with the data source requiring one (not the sender record: it also
        stands for our client's requests, which carry none)."""
        self.source.require_http_signature = True
        with trap_jobs() as trap:
            with self.served():
                sent = self.source.with_user(self.case_worker)._dci_search_async(
                    "idtype-value", {"type": "UIN", "value": "DEMO-UIN-0007"}
                )
            ran = self.run_jobs(trap)
        self.assertIn("spp.dci.inbox._dci_dispatch", ran, "the callback was accepted")
        txn = self.env["spp.dci.client.transaction"].browse(sent["id"])
        self.assertEqual((txn.state, txn.callback_count), ("done", 1))
        incoming = self.exchanges(self.source, direction="incoming")
        self.assertEqual((incoming.action, incoming.status), ("on-search", "ok"))

    def test_async_callback_queued_long_ago_is_accepted(self):
        """A callback that waited 15 minutes is stamped and signed when it is sent.

        Our own receiver is strict: ``message_ts`` within 300 s, a signature valid
        now (ours live 600 s). The batch job's first attempt gives up (the sender no
        longer allows private callback addresses); an administrator fixes that and
        retries a quarter of an hour later: the stored envelope is aged as if it had
        waited since it was built.
        """
        sender = self.env.ref("spp_dci_demo.demo_sender_openspp")
        with trap_jobs() as trap:
            with self.served():
                sent = self.source.with_user(self.case_worker)._dci_search_async(
                    "idtype-value", {"type": "UIN", "value": "DEMO-UIN-0007"}
                )
            txn = self.env["spp.dci.client.transaction"].browse(sent["id"])
            sender.allow_private_callbacks = False
            self.assertEqual(
                self.run_jobs(trap, rounds=2),
                [
                    "spp.dci.transaction._dci_answer_queued",
                    "spp.dci.transaction._dci_send_first_attempts",
                ],
            )
            server_txn = self.env["spp.dci.transaction"].search(
                [("correlation_id", "=", txn.correlation_id)]
            )
            self.assertEqual(server_txn.delivery_state, "failed")
            sender.allow_private_callbacks = True
            queued = server_txn.sudo().delivery_payload
            long_ago = datetime.now(UTC) - timedelta(minutes=15)
            header = dict(queued["header"], message_ts=format_timestamp(long_ago))
            signer = self.env["spp.dci.signing.key"].sudo()._dci_signer()
            aged = build_envelope(
                header, queued["message"], signer, header["sender_id"], now=long_ago
            )
            server_txn.sudo().write({"delivery_payload": aged})
            server_txn.action_retry_delivery()
            ran = self.run_jobs(trap)
        self.assertEqual(ran, ["spp.dci.transaction._dci_deliver", "spp.dci.inbox._dci_dispatch"])
        self.assertEqual(
            (server_txn.delivery_state, server_txn.delivery_http_status), ("sent", 200)
        )
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        inbox = self.env["spp.dci.inbox"].search(
            [("message_id", "=", server_txn.delivery_message_id)]
        )
        self.assertEqual(inbox.signature_state, "verified", "the message_id a peer dedupes on")
        self.assertGreater(
            inbox.message_ts, (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)
        )

    def test_callback_delivered_again_after_a_lost_ack_is_acknowledged_once(self):
        """Our receiver stored the callback, its ACK was lost: the next attempt is ACKed.

        The retry carries the same message_id and message (fresh stamp and signature),
        so the receiver answers ACK without storing or processing it a second time,
        and the delivery ends sent, not failed on a 409 duplicate.
        """
        with trap_jobs() as trap:
            with self.served():
                sent = self.source.with_user(self.case_worker)._dci_search_async(
                    "idtype-value", {"type": "UIN", "value": "DEMO-UIN-0007"}
                )
            txn = self.env["spp.dci.client.transaction"].browse(sent["id"])
            self.run_jobs(trap)
            server_txn = self.env["spp.dci.transaction"].search(
                [("correlation_id", "=", txn.correlation_id)]
            )
            self.assertEqual(server_txn.delivery_state, "sent")
            # as if the ACK had not come back: the delivery is retried
            server_txn.write({"delivery_state": "retrying"})
            with self.served():
                self.assertEqual(server_txn._dci_deliver(), "attempt 2: HTTP 200")
            ran = self.run_jobs(trap)
        self.assertEqual(ran, [], "not dispatched a second time")
        self.assertEqual((server_txn.delivery_state, server_txn.delivery_attempts), ("sent", 2))
        inbox = self.env["spp.dci.inbox"].search(
            [("message_id", "=", server_txn.delivery_message_id)]
        )
        self.assertEqual(len(inbox), 1)
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        # another message under the same id is refused (here already by the client: the
        # transaction it answers is done)
        other = dict(server_txn.sudo().delivery_payload)
        item = dict(other["message"]["search_response"][0], timestamp="2026-01-01T00:00:00Z")
        other["message"] = dict(other["message"], search_response=[item])
        server_txn.sudo().write({"delivery_state": "retrying", "delivery_payload": other})
        with self.served(), self.assertRaisesRegex(DeliveryGaveUp, "attempt 3 failed"):
            server_txn._dci_deliver()  # the delivery job fails: the Job Queue lists it
        self.assertEqual(server_txn.delivery_state, "failed")
        self.assertIn(server_txn.delivery_http_status, (404, 409), server_txn.delivery_last_error)
