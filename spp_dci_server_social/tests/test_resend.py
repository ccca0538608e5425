"""A caller that timed out sends the same envelope again: it gets the first answer.

Identical = same sender, path, ``message_id`` and request digest (RFC 8785
``{header, message}``); anything else with a used ``message_id`` is still
``rjct.message_id.duplicate``. Everything goes over real HTTP to /dci/social.
"""

import json
import time
import uuid
from datetime import UTC, datetime

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.addons.spp_dci_server.services.ratelimit import limiter
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"
SUBSCRIBE = "/registry/subscribe"


@tagged("post_install", "-at_install")
class TestResend(SocialCase):
    def uin_item(self, value="ZB-UIN-001"):
        return self.search_item("idtype-value", {"type": "UIN", "value": value})

    def rows(self, envelope):
        """The transaction rows of the envelope's message_id (accepted and refused)."""
        self.env.invalidate_all()
        return self.env["spp.dci.transaction"].search(
            [("message_id", "=", envelope["header"]["message_id"])]
        )

    def resigned(self, envelope, **header_values):
        """The same header (or a changed one) and message, signed anew and spaced otherwise."""
        header = dict(envelope["header"], **header_values)
        again = build_envelope(
            header, envelope["message"], self.sender_key, "spmis-test", now=time.time() - 5
        )
        self.assertNotEqual(again["signature"], envelope["signature"])
        return json.dumps(again, indent=2).encode()

    def test_identical_sync_search_gets_the_same_results(self):
        envelope = self.search_envelope(self.uin_item(), self.uin_item("ZB-UIN-002"))
        first = self.post(SYNC, envelope)
        self.assertEqual(first.status_code, 200, first.text)
        first = first.json()
        for resend in (envelope, self.resigned(envelope)):
            with self.subTest(resigned=isinstance(resend, bytes)):
                response = self.post(SYNC, resend)
                body = self.assertSpecResponse(SYNC, response)
                self.assertEqual((response.status_code, body["header"]["status"]), (200, "succ"))
                self.assertSignedByUs(body)
                self.assertEqual(
                    body["message"]["correlation_id"], first["message"]["correlation_id"]
                )
                self.assertEqual(
                    body["message"]["transaction_id"], first["message"]["transaction_id"]
                )
                self.assertEqual(
                    [
                        (i["reference_id"], i["status"], i["data"]["reg_records"])
                        for i in body["message"]["search_response"]
                    ],
                    [
                        (i["reference_id"], i["status"], i["data"]["reg_records"])
                        for i in first["message"]["search_response"]
                    ],
                )
        # the re-sends wrote nothing: one row, the first one's
        [txn] = self.rows(envelope)
        self.assertEqual(
            (txn.state, txn.correlation_id), ("done", first["message"]["correlation_id"])
        )

    def test_identical_sync_txn_status_gets_the_same_answer(self):
        _response, searched = self.sync_search(self.uin_item())
        message = {
            "transaction_id": str(uuid.uuid4()),
            "txnstatus_request": {
                "reference_id": "s-1",
                "txn_type": "search",
                "attribute_type": "correlation_id",
                "attribute_value": searched["message"]["correlation_id"],
            },
        }
        envelope = self.envelope("txn-status", message)
        path = "/registry/sync/txn/status"
        first = self.assertSpecResponse(path, self.post(path, envelope))
        again = self.post(path, envelope)
        body = self.assertSpecResponse(path, again)
        self.assertEqual(again.status_code, 200, body)

        def answer(body):
            status = body["message"]["txnstatus_response"]["txn_status"]
            items = [(i["reference_id"], i["status"]) for i in status["search_response"]]
            return body["message"]["correlation_id"], status["correlation_id"], items

        self.assertEqual(answer(body), answer(first))
        self.assertEqual(answer(body)[1], searched["message"]["correlation_id"])
        self.assertEqual(len(self.rows(envelope)), 1)

    def test_identical_async_search_gets_the_same_ack_and_one_callback(self):
        sender_uri = self.receiver.url("/spmis/registry/on-search")
        envelope = self.search_envelope(self.uin_item("ZB-UIN-002"), sender_uri=sender_uri)
        first = self.post(ASYNC, envelope)
        ack = self.assertSpecResponse(ASYNC, first)["message"]
        self.assertEqual((first.status_code, ack["ack_status"]), (200, "ACK"))
        for when in ("before the job", "after the callback"):
            with self.subTest(when=when):
                response = self.post(ASYNC, envelope)
                body = self.assertSpecResponse(ASYNC, response)
                self.assertEqual(response.status_code, 200, body)
                self.assertHttpSigned(response)
                self.assertEqual(body["message"]["ack_status"], "ACK")
                self.assertEqual(body["message"]["correlation_id"], ack["correlation_id"])
                self.assertEqual(len(self.pending_jobs()), 1 if when == "before the job" else 0)
                self.run_jobs()
        [callback] = self.receiver.requests  # processed and called back once
        self.assertEqual(callback["json"]["message"]["correlation_id"], ack["correlation_id"])
        [record] = callback["json"]["message"]["search_response"][0]["data"]["reg_records"]
        self.assertEqual(record["name"]["given_name"], "Bob")
        [txn] = self.rows(envelope)
        self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))

    def test_identical_subscribe_gets_the_same_subscription(self):
        criteria = {
            "reg_event_type": "REGISTER",
            "filter_type": "expression",
            "filter": self.expression({"surname": {"$eq": "Resendson"}}),
            "notify_record_type": "Person",
        }
        item = {
            "reference_id": str(uuid.uuid4()),
            "timestamp": format_timestamp(datetime.now(UTC)),
            "subscribe_criteria": criteria,
        }
        message = {"transaction_id": str(uuid.uuid4()), "subscribe_request": [item]}
        envelope = self.envelope(
            "subscribe", message, sender_uri=self.receiver.url("/spmis/registry/on-subscribe")
        )
        acks = []
        for _attempt in range(2):  # the caller timed out waiting for the first ACK
            response = self.post(SUBSCRIBE, envelope)
            body = self.assertSpecResponse(SUBSCRIBE, response)
            self.assertEqual((response.status_code, body["message"]["ack_status"]), (200, "ACK"))
            acks.append(body["message"]["correlation_id"])
            self.run_jobs()
        self.assertEqual(acks[0], acks[1])
        [callback] = self.receiver.requests
        spec.validate_request("social", "/registry/on-subscribe", callback["json"])
        [result] = callback["json"]["message"]["subscribe_response"]
        [info] = result["subscriptions"]
        subscriptions = self.env["spp.dci.subscription"].search(
            [("sender_id", "=", self.sender.id), ("transaction_id", "=", message["transaction_id"])]
        )
        self.assertEqual(subscriptions.mapped("code"), [info["code"]], "one subscription")
        # asked again once more, after everything: the same ACK, still one subscription
        body = self.post(SUBSCRIBE, envelope).json()
        self.assertEqual(body["message"]["correlation_id"], acks[0])
        self.assertFalse(self.pending_jobs())

    def test_other_request_with_a_used_message_id_is_still_a_duplicate(self):
        envelope = self.search_envelope(self.uin_item())
        self.assertEqual(self.post(SYNC, envelope).status_code, 200)
        other_message = dict(envelope["message"], transaction_id="another-transaction")
        other = build_envelope(envelope["header"], other_message, self.sender_key, "spmis-test")
        later = self.resigned(envelope, message_ts=format_timestamp(datetime.now(UTC)))
        for body in (other, later):
            with self.subTest(body=body if isinstance(body, bytes) else "other message"):
                self.assertRejected(self.post(SYNC, body), 409, "rjct.message_id.duplicate")
        # the same envelope on the async path is another request (it would need a callback)
        sender_uri = self.receiver.url("/spmis/registry/on-search")
        async_envelope = self.search_envelope(self.uin_item(), sender_uri=sender_uri)
        self.assertEqual(self.post(ASYNC, async_envelope).status_code, 200)
        self.assertRejected(self.post(SYNC, async_envelope), 409, "rjct.message_id.duplicate")
        other = build_envelope(
            async_envelope["header"],
            dict(async_envelope["message"], transaction_id="another-transaction"),
            self.sender_key,
            "spmis-test",
        )
        body = self.assertErrAck(self.post(ASYNC, other), 409, "err.request.bad")
        self.assertIn("rjct.message_id.duplicate", body["message"]["error"]["message"])
        self.assertEqual(
            sorted(self.rows(envelope).mapped("state")), ["done", "rejected", "rejected"]
        )
        self.assertEqual(
            sorted(self.rows(async_envelope).mapped("state")), ["received", "rejected", "rejected"]
        )

    def test_resends_count_in_the_rate_limit(self):
        """A re-send adds no row: it counts in the per-worker window instead."""
        self._make_sender("spmis-resender", self.sender_key, rate_limit=3)
        token = self.get_token("spmis-resender")
        limiter.reset()
        header = self.header("search", sender_id="spmis-resender")
        message = {"transaction_id": "t", "search_request": [self.uin_item()]}
        envelope = self.envelope("search", message, header=header, sender_id="spmis-resender")
        statuses = [self.post(SYNC, envelope, token=token).status_code for _ in range(5)]
        self.assertEqual(statuses, [200, 200, 200, 200, 429])
        limiter.reset()
