# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A callback we refuse is noted on the transaction it names, which keeps waiting."""

import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_client_async import QUERY, RECEIVER_LOGGER, DCIClientAsyncCase


@tagged("post_install", "-at_install")
class TestRefusedCallbacks(DCIClientAsyncCase):
    def post_without_token(self, envelope):
        sender_uri = self.stub.pending[0]["request"]["header"]["sender_uri"]
        with self.odoo_requests(), mute_logger(RECEIVER_LOGGER):
            return self.stub.post(sender_uri, envelope, token=False)

    def notices(self):
        return [
            bus.message
            for bus in self.env["bus.bus"].sudo().search([], order="id")
            if "was refused" in bus.message
        ]

    def test_callback_without_token_is_noted_on_its_transaction(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        _url, envelope = self.stub.callback_for(self.stub.pending[0])
        before = len(self.notices())
        response = self.post_without_token(envelope)
        self.assertEqual(response.status_code, 401, response.text)
        self.env.invalidate_all()
        self.assertEqual((txn.state, txn.callback_count, txn.refusal_count), ("pending", 0, 1))
        self.assertTrue(txn.last_refusal_at)
        self.assertIn("err.request.unauthorized", txn.last_refusal_reason)
        # the log entry still holds nothing the anonymous caller sent
        entry = self.logs(direction="incoming")[-1].sudo()
        self.assertEqual(entry.status, "refused")
        self.assertFalse(entry.transaction_id or entry.message_id or entry.request_payload)
        # the requester is told once, on their screen
        notices = self.notices()[before:]
        self.assertEqual(len(notices), 1)
        self.assertIn(txn.transaction_id, notices[0])
        self.post_without_token(envelope)
        self.env.invalidate_all()
        self.assertEqual(txn.refusal_count, 2)
        self.assertEqual(len(self.notices()), before + 1, "told once")

        # the registry's own, authenticated callback is still accepted
        self.assertAck(self.deliver())
        self.env.invalidate_all()
        self.assertEqual((txn.state, txn.refusal_count), ("done", 2))

    def test_what_is_not_noted(self):
        sent = self.source._dci_search_async(*QUERY)
        txn = self.transaction(sent)
        _url, envelope = self.stub.callback_for(self.stub.pending[0])
        # a transaction that is not ours, and a body too big to be looked at
        other = dict(envelope, message=dict(envelope["message"], transaction_id=str(uuid.uuid4())))
        big = dict(envelope, padding="x" * 300_000)
        for body in (other, big):
            self.assertEqual(self.post_without_token(body).status_code, 401)
        self.env.invalidate_all()
        self.assertEqual(txn.refusal_count, 0)
        # a refused callback for a transaction no longer open: nothing either
        txn.state = "cancelled"
        self.post_without_token(envelope)
        self.env.invalidate_all()
        self.assertEqual(txn.refusal_count, 0)

    def test_forged_callback_is_noted(self):
        sent = self.source._dci_search_async(*QUERY)
        response = self.deliver(mode="forged")
        self.assertEqual(response.status_code, 401)
        txn = self.transaction(sent)
        self.env.invalidate_all()
        self.assertEqual((txn.state, txn.refusal_count), ("pending", 1))
        self.assertIn("err.signature.invalid", txn.last_refusal_reason)

    def test_expiry_says_why_no_answer_got_in(self):
        sent = self.source._dci_search_async(*QUERY)
        _url, envelope = self.stub.callback_for(self.stub.pending[0])
        self.post_without_token(envelope)
        txn = self.transaction(sent)
        txn.deadline = fields.Datetime.now() - timedelta(minutes=1)
        self.env["spp.dci.client.transaction"]._cron_expire()
        self.assertEqual(txn.state, "expired")
        self.assertIn("No accepted callback before the deadline: 1 refused", txn.status_reason)
        self.assertIn("err.request.unauthorized", txn.status_reason)
