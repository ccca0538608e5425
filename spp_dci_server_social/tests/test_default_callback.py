"""An async request without header.sender_uri: the sender's default callback URL."""

import uuid
from datetime import UTC, datetime

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .subscribe_common import SubscribeCase


@tagged("post_install", "-at_install")
class TestDefaultCallbackUrl(SubscribeCase):
    def setUp(self):
        super().setUp()
        self.sender.callback_base_url = self.receiver.url("/onboarded/dci/")
        self.addCleanup(setattr, self.sender, "callback_base_url", False)

    def post_async(self, path, action, message, spec_path, **header):
        response = self.post(path, self.envelope(action, message, **header))
        body = self.assertSpecResponse(path, response)
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["message"]["ack_status"], "ACK", body)
        self.run_jobs()
        [callback] = self.receiver.requests
        self.receiver.requests.clear()
        spec.validate_request("social", spec_path, callback["json"])
        self.assertSignedByUs(callback["json"])
        return callback

    def test_search_status_subscribe_without_sender_uri(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        search = {"transaction_id": str(uuid.uuid4()), "search_request": [item]}
        callback = self.post_async("/registry/search", "search", search, "/registry/on-search")
        self.assertEqual(callback["path"], "/onboarded/dci/registry/on-search")
        results = callback["json"]["message"]["search_response"]
        self.assertEqual(results[0]["data"]["reg_records"][0]["name"]["given_name"], "Bob")

        status = {
            "transaction_id": str(uuid.uuid4()),
            "txnstatus_request": {
                "reference_id": "status-ref",
                "txn_type": "search",
                "attribute_type": "transaction_id",
                "attribute_value": search["transaction_id"],
            },
        }
        callback = self.post_async(
            "/registry/txn/status", "txn-status", status, "/registry/txn/on-status"
        )
        self.assertEqual(callback["path"], "/onboarded/dci/registry/txn/on-status")

        subscribe = {
            "transaction_id": str(uuid.uuid4()),
            "subscribe_request": [
                self.subscribe_item(self.expression({"given_name": {"$eq": "X"}}))
            ],
        }
        callback = self.post_async(
            "/registry/subscribe", "subscribe", subscribe, "/registry/on-subscribe"
        )
        self.assertEqual(callback["path"], "/onboarded/dci/registry/on-subscribe")
        [result] = callback["json"]["message"]["subscribe_response"]
        self.assertEqual(result["status"], "succ", result)
        subscription = self.env["spp.dci.subscription"].search(
            [("code", "=", result["subscriptions"][0]["code"])]
        )
        self.assertEqual(
            subscription.notify_uri, self.receiver.url("/onboarded/dci/registry/notify")
        )

        unsubscribe = {
            "transaction_id": str(uuid.uuid4()),
            "timestamp": format_timestamp(datetime.now(UTC)),
            "subscription_codes": [subscription.code],
        }
        callback = self.post_async(
            "/registry/unsubscribe", "unsubscribe", unsubscribe, "/registry/on-unsubscribe"
        )
        self.assertEqual(callback["path"], "/onboarded/dci/registry/on-unsubscribe")

    def test_given_sender_uri_wins(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        envelope = self.search_envelope(item, sender_uri=self.receiver.url("/given/on-search"))
        self.assertEqual(self.post("/registry/search", envelope).status_code, 200)
        self.run_jobs()
        self.assertEqual([r["path"] for r in self.receiver.requests], ["/given/on-search"])

    def test_default_passes_the_callback_checks(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        self.sender.callback_base_url = "https://evil.example.org/dci"
        response = self.post("/registry/search", self.search_envelope(item))
        body = self.assertErrAck(response, 400, "err.sender_uri.invalid")
        self.assertIn("default callback URL", body["message"]["error"]["message"])
        self.assertIn("not one of the sender's callback hosts", body["message"]["error"]["message"])
        # an allowed host that resolves to a private address, from a sender without the
        # administrator's permission for private callbacks (SSRF)
        self.sender.write(
            {"callback_base_url": "https://127.0.0.1/dci", "allow_private_callbacks": False}
        )
        self.addCleanup(setattr, self.sender, "allow_private_callbacks", True)
        body = self.assertErrAck(
            self.post("/registry/search", self.search_envelope(item)),
            400,
            "err.sender_uri.invalid",
        )
        self.assertIn("private", body["message"]["error"]["message"])
        # no default: sender_uri stays required
        self.sender.write({"callback_base_url": False, "allow_private_callbacks": True})
        body = self.assertErrAck(
            self.post("/registry/search", self.search_envelope(item)),
            400,
            "err.sender_uri.invalid",
        )
        self.assertIn("no default callback URL", body["message"]["error"]["message"])
        self.assertEqual(self.receiver.requests, [])

    def test_default_url_shape_is_validated(self):
        for url in (
            "ftp://127.0.0.1/dci",
            "https://u:p@127.0.0.1/dci",
            "https://127.0.0.1/dci?x=1",
            "/relative",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                self.sender.callback_base_url = url
                self.sender.flush_recordset()
