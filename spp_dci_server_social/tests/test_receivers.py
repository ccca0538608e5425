import uuid
from datetime import UTC, datetime

from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.tests import tagged

from .common import SocialCase


@tagged("post_install", "-at_install")
class TestReceivers(SocialCase):
    """Caller-side receivers: callbacks from a registry we called are ACKed and stored."""

    def callback_header(self, action, **values):
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": format_timestamp(datetime.now(UTC)),
            "action": action,
            "status": "succ",
            "total_count": 1,
            "completed_count": 1,
            "sender_id": "spmis-test",
            "receiver_id": self.our_id,
        }
        header.update(values)
        return header

    def on_search_message(self):
        return {
            "transaction_id": "our-txn-1",
            "correlation_id": "their-corr-1",
            "search_response": [
                {
                    "reference_id": "ref-1",
                    "timestamp": format_timestamp(datetime.now(UTC)),
                    "status": "succ",
                    "data": {"reg_record_type": "Person", "reg_records": [{"@type": "Person"}]},
                }
            ],
        }

    def client_decides(self):
        """Whether an addon (spp_dci_client) decides which callbacks are accepted.

        The server authenticates, verifies and parses a callback, then hands it to
        ``spp.dci.inbox._dci_receive``; spp_dci_client overrides it to accept only
        callbacks that answer its own requests. Our test sender is not one of its
        data sources, so with that addon installed the answer is its refusal.
        """
        return "spp.dci.client.receiver" in self.env.registry

    def test_on_search_acked_stored_and_dispatched(self):
        envelope = self.envelope(
            "on-search", self.on_search_message(), header=self.callback_header("on-search")
        )
        response = self.post("/registry/on-search", envelope)
        body = self.assertSpecResponse("/registry/on-search", response)
        if self.client_decides():
            self.assertEqual(body["message"]["ack_status"], "ERR", body)
            self.assertFalse(
                self.env["spp.dci.inbox"].search(
                    [("message_id", "=", envelope["header"]["message_id"])]
                )
            )
            return
        self.assertEqual(body["message"]["ack_status"], "ACK")
        self.assertEqual(body["message"]["correlation_id"], "their-corr-1")
        inbox = self.env["spp.dci.inbox"].search(
            [("message_id", "=", envelope["header"]["message_id"])]
        )
        self.assertEqual(
            (inbox.action, inbox.transaction_id, inbox.state),
            ("on-search", "our-txn-1", "received"),
        )
        self.assertEqual(inbox.signature_state, "verified")
        self.assertEqual(inbox.sudo().payload["message"]["correlation_id"], "their-corr-1")
        self.run_jobs()
        self.assertFalse(self.pending_jobs())
        inbox.invalidate_recordset()
        self.assertIn(
            inbox.state, ("received", "processed"), "dispatched to the installed handlers (if any)"
        )
        # the same message again, stamped and signed anew (its ACK was lost): ACKed, kept once
        header = dict(envelope["header"], message_ts=self.header("on-search")["message_ts"])
        again = self.post(
            "/registry/on-search", self.envelope("on-search", envelope["message"], header=header)
        )
        body = self.assertSpecResponse("/registry/on-search", again)
        self.assertEqual(body["message"]["ack_status"], "ACK", body)
        self.assertEqual(body["message"]["correlation_id"], "their-corr-1")
        self.assertEqual(len(inbox.search([("message_id", "=", header["message_id"])])), 1)
        self.assertFalse(self.pending_jobs(), "not dispatched twice")
        # another message under that message_id
        other = dict(envelope["message"], correlation_id="their-corr-2")
        again = self.post("/registry/on-search", self.envelope("on-search", other, header=header))
        body = self.assertErrAck(again, 409, "err.request.bad", path="/registry/on-search")
        self.assertIn("rjct.message_id.duplicate", body["message"]["error"]["message"])

    def test_header_only_rejection_callback(self):
        header = self.callback_header(
            "on-search", status="rjct", status_reason_code="rjct.total_count.invalid"
        )
        from odoo.addons.spp_dci.dci.signature import create_signature

        envelope = {
            "signature": create_signature(header, None, self.sender_key, "spmis-test"),
            "header": header,
        }
        response = self.post("/registry/on-search", envelope)
        body = self.assertSpecResponse("/registry/on-search", response)
        self.assertEqual(
            body["message"]["ack_status"], "ERR" if self.client_decides() else "ACK", body
        )

    def test_notify_and_other_receivers(self):
        notify = {
            "transaction_id": "sub-txn",
            "notify_event": [
                {
                    "reference_id": "e1",
                    "timestamp": format_timestamp(datetime.now(UTC)),
                    "data": {
                        "reg_event_type": "REGISTER",
                        "reg_record_type": "Person",
                        "reg_records": {"@type": "Person"},
                    },
                }
            ],
        }
        response = self.post(
            "/registry/notify",
            self.envelope("notify", notify, header=self.callback_header("notify")),
        )
        ack = self.assertSpecResponse("/registry/notify", response)["message"]["ack_status"]
        self.assertEqual(ack, "ERR" if self.client_decides() else "ACK")
        # a sender without the on-* scopes may not call the receivers
        self._make_sender("spmis-searcher", self.sender_key, scopes="registry.search")
        token = self.get_token("spmis-searcher")
        response = self.post("/registry/notify", b"{}", token=token)
        self.assertHttpError(response, 403, "err.request.forbidden")
        # bad signature on a callback
        envelope = self.envelope("notify", notify, header=self.callback_header("notify"))
        envelope["message"]["transaction_id"] = "changed"
        self.assertHttpError(self.post("/registry/notify", envelope), 401, "err.signature.invalid")
        # a request action on a receiver path
        envelope = self.envelope(
            "on-search", self.on_search_message(), header=self.callback_header("on-search")
        )
        body = self.assertErrAck(
            self.post("/registry/notify", envelope), 400, "err.request.bad", path="/registry/notify"
        )
        self.assertIn("rjct.action.invalid", body["message"]["error"]["message"])
