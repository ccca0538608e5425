# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""RFC 9421 HTTP signatures on the callbacks a registry sends to our receivers.

The stub registry signs with its own RFC 9421 code (not spp_dci's), next to its
DCI body signature, over real HTTP.
"""

from odoo.tests import tagged

from .test_client_async import QUERY, DCIClientAsyncCase


@tagged("post_install", "-at_install")
class TestCallbackHttpSignatures(DCIClientAsyncCase):
    def assertProcessed(self, sent, response):
        self.assertAck(response)
        txn = self.transaction(sent)
        self.assertEqual((txn.state, txn.callback_count), ("done", 1))

    def test_valid_http_signature_is_accepted(self):
        self.stub.http_signature = "ok"
        sent = self.source._dci_search_async(*QUERY)
        self.assertProcessed(sent, self.deliver())

    def test_corrupted_http_signature_next_to_a_valid_body_signature_is_refused(self):
        self.stub.http_signature = "corrupt"
        sent = self.source._dci_search_async(*QUERY)
        pending = self.stub.pending[0]
        entry = self.assertRefused(
            self.deliver(pending=pending), 401, "err.signature.invalid", sent
        )
        self.assertIn("HTTP signature rejected (bad_signature)", entry.error)
        # the same callback, correctly signed, is then accepted
        self.stub.http_signature = "ok"
        self.assertProcessed(sent, self.deliver(pending=pending))

    def test_absent_is_accepted_by_default(self):
        self.assertFalse(self.source.require_http_signature, "off by default")
        sent = self.source._dci_search_async(*QUERY)
        self.assertProcessed(sent, self.deliver())

    def test_absent_is_refused_when_the_data_source_requires_it(self):
        self.source.require_http_signature = True
        sent = self.source._dci_search_async(*QUERY)
        pending = self.stub.pending[0]
        entry = self.assertRefused(
            self.deliver(pending=pending), 401, "err.signature.missing", sent
        )
        self.assertIn("RFC 9421", entry.error)
        self.stub.http_signature = "ok"
        self.assertProcessed(sent, self.deliver(pending=pending))
