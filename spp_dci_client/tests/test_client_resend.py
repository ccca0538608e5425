# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A request that timed out is re-sent, and the registry refuses the re-send as a duplicate.

The independent registry (``registry_stub``) receives the first attempt, answers
it only after our timeout (a real delay), and refuses the re-sent envelope with
409 ``rjct.message_id.duplicate`` instead of repeating its answer. The request
is not rejected: it stays pending, the registry's txn status gives it the
correlation_id of the lost ACK, and the registry's callback completes it.
"""

import time

from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.tests import tagged

from .test_client_async import QUERY, DCIClientAsyncCase


@tagged("post_install", "-at_install")
class TestResentAfterTimeout(DCIClientAsyncCase):
    def setUp(self):
        super().setUp()
        self.source._dci_sync_search(*QUERY)  # the token is cached: only the request is slow
        self.source.write({"timeout": 0.5, "retries": 1, "retry_backoff": 0.05})
        self.stub.refuse_duplicates = True
        self.stub.delays = [1.5]  # the first attempt is answered after our timeout

    def wait_for_the_first_attempt(self):
        deadline = time.monotonic() + 10
        while self.stub.in_progress and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(self.stub.in_progress, "the stub never answered the first attempt")

    def test_async_search_stays_pending_then_is_reconciled(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        self.assertEqual(txn.state, "pending", txn.status_reason)
        self.assertIsNone(sent["ack_status"])
        self.assertIn("refused our re-send as a duplicate", txn.status_reason)
        # reconciled through the registry's txn status: still being processed there,
        # under the correlation_id its lost ACK carried
        self.assertIn("Registry txn status: pdng", txn.status_reason)
        correlation_id = self.stub.correlations[txn.transaction_id]
        self.assertEqual((sent["correlation_id"], txn.correlation_id), (correlation_id,) * 2)
        [status_request] = self.stub.requests_to("/registry/sync/txn/status")
        query = status_request["message"]["txnstatus_request"]
        self.assertEqual(query["attribute_value"], txn.transaction_id)
        attempts = self.logs(action="search", transaction_id=txn.transaction_id)
        self.assertEqual([a.error_kind for a in attempts], ["timeout", "duplicate"])
        self.assertEqual(len(set(attempts.mapped("message_id"))), 1, "the same envelope")

        # the registry finishes the first attempt; its callback completes the transaction
        self.wait_for_the_first_attempt()
        first, resent = self.stub.requests_to("/registry/search")
        self.assertEqual(first, resent)
        self.assertAck(self.deliver())
        self.assertEqual((txn.state, txn.record_count), ("done", 1))
        self.assertEqual(txn.correlation_id, correlation_id)
        _jobs, calls = self.handled_records()
        self.assertEqual([c["records"] for c in calls], [[self.stub.records[3]]])
        self.assertStubSawValidRequests(self.stub)

    def test_registry_without_txn_status_leaves_it_pending(self):
        self.stub.no_txn_status = True
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        self.assertEqual((txn.state, txn.correlation_id), ("pending", False))
        self.assertIn(
            "Its txn status could not be read: The registry answered HTTP 404", txn.status_reason
        )
        self.wait_for_the_first_attempt()
        self.assertAck(self.deliver())  # matched on transaction_id, its correlation_id taken
        self.assertEqual(txn.state, "done")
        self.assertEqual(txn.correlation_id, self.stub.correlations[txn.transaction_id])

    def test_sync_search_says_the_answer_was_lost(self):
        with self.assertRaisesRegex(
            DCIClientUserError, "refused our re-send as a duplicate .* not rejected"
        ) as caught:
            self.source._dci_sync_search(*QUERY)
        self.assertEqual(caught.exception.kind, "duplicate")
        self.wait_for_the_first_attempt()
