import json
import uuid
from unittest.mock import patch

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci.dci import spec
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SocialCase

SYNC = "/registry/sync/txn/status"
ASYNC = "/registry/txn/status"


@tagged("post_install", "-at_install")
class TestTxnStatus(SocialCase):
    """Sync and async txn status, only about the requester's own transactions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the status of a sync search carries its records only where they are kept
        cls.endpoint.dci_store_payloads = True
        cls.endpoint.flush_recordset()
        fastapi_app_pool.invalidate(cls.env)
        cls.addClassCleanup(fastapi_app_pool.invalidate, cls.env)

    def status_envelope(
        self, attribute_type, attribute_value, txn_type="search", sender_id="spmis-test", **header
    ):
        message = {
            "transaction_id": str(uuid.uuid4()),
            "txnstatus_request": {
                "reference_id": "status-ref",
                "txn_type": txn_type,
                "attribute_type": attribute_type,
                "attribute_value": attribute_value,
            },
        }
        return self.envelope("txn-status", message, sender_id=sender_id, **header)

    def sync_status(self, *args, **kwargs):
        response = self.post(SYNC, self.status_envelope(*args, **kwargs))
        body = self.assertSpecResponse(SYNC, response)
        self.assertEqual(response.status_code, 200, body)
        self.assertSignedByUs(body)
        return body

    def searched(self):
        items = [
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-001"}, reference_id="r-alice"
            ),
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-002"}, reference_id="r-bob"
            ),
        ]
        envelope = self.search_envelope(*items)
        response = self.post("/registry/sync/search", envelope)
        self.assertEqual(response.status_code, 200, response.text)
        return envelope["message"]["transaction_id"], response.json()["message"]["correlation_id"]

    def test_sync_status_by_transaction_correlation_and_references(self):
        transaction_id, correlation_id = self.searched()
        body = self.sync_status("transaction_id", transaction_id)
        self.assertEqual(body["header"]["action"], "txn-on-status")
        result = body["message"]["txnstatus_response"]
        self.assertEqual(result["txn_type"], "search")
        status = result["txn_status"]
        self.assertEqual(
            (status["transaction_id"], status["correlation_id"]), (transaction_id, correlation_id)
        )
        self.assertEqual(
            [i["reference_id"] for i in status["search_response"]], ["r-alice", "r-bob"]
        )
        self.assertEqual(
            status["search_response"][0]["data"]["reg_records"][0]["name"]["given_name"], "Alice"
        )

        status = self.sync_status("correlation_id", correlation_id)["message"][
            "txnstatus_response"
        ]["txn_status"]
        self.assertEqual(status["transaction_id"], transaction_id)

        status = self.sync_status("reference_id_list", ["r-bob"])["message"]["txnstatus_response"][
            "txn_status"
        ]
        self.assertEqual([i["reference_id"] for i in status["search_response"]], ["r-bob"])

    def test_only_own_transactions(self):
        transaction_id, _correlation = self.searched()
        self._make_sender("spmis-nosy", self.sender_key)
        token = self.get_token("spmis-nosy")
        response = self.post(
            SYNC,
            self.status_envelope("transaction_id", transaction_id, sender_id="spmis-nosy"),
            token=token,
        )
        body = self.assertSpecResponse(SYNC, response)
        status = body["message"]["txnstatus_response"]["txn_status"]
        [item] = status["search_response"]
        self.assertEqual(
            (item["status"], item["status_reason_code"]), ("rjct", "rjct.reference_id.invalid")
        )
        self.assertNotIn("data", item)
        self.assertNotIn("Alice", response.text)

    def test_pending_async_search_then_async_status(self):
        envelope = self.search_envelope(
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-003"}, reference_id="r-charlie"
            ),
            sender_uri=self.receiver.url("/cb/on-search"),
        )
        ack = self.post("/registry/search", envelope).json()
        correlation_id = ack["message"]["correlation_id"]
        status = self.sync_status("correlation_id", correlation_id)["message"][
            "txnstatus_response"
        ]["txn_status"]
        self.assertEqual(status["search_response"][0]["status"], "pdng")
        self.run_jobs()
        self.receiver.requests.clear()
        # the asynchronous variant answers through the txn/on-status callback
        status_envelope = self.status_envelope(
            "correlation_id", correlation_id, sender_uri=self.receiver.url("/cb/txn/on-status")
        )
        response = self.post(ASYNC, status_envelope)
        ack = self.assertSpecResponse(ASYNC, response)
        self.assertEqual(ack["message"]["ack_status"], "ACK")
        self.run_jobs()
        [callback] = self.receiver.requests
        data = callback["json"]
        spec.validate_request("social", "/registry/txn/on-status", data)
        self.assertSignedByUs(data)
        self.assertEqual(data["header"]["action"], "txn-on-status")
        self.assertEqual(data["message"]["correlation_id"], ack["message"]["correlation_id"])
        self.assertEqual(
            data["message"]["transaction_id"], status_envelope["message"]["transaction_id"]
        )
        item = data["message"]["txnstatus_response"]["txn_status"]["search_response"][0]
        self.assertEqual((item["status"], item["reference_id"]), ("succ", "r-charlie"))

    def test_subscribe_status_not_representable_in_social(self):
        response = self.post(
            SYNC, self.status_envelope("transaction_id", "x", txn_type="subscribe")
        )
        self.assertRejected(response, 200, "rjct.action.not_supported", path=SYNC)

    def test_failed_async_search_hides_the_error_from_the_caller(self):
        """An unexpected error: the caller learns err.service.unavailable, we keep the text."""
        secret = "password=Tr0ub4dor&3 for postgres://dci@db-internal.example:5432"
        envelope = self.search_envelope(
            self.search_item(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-003"}, reference_id="r-broken"
            ),
            sender_uri=self.receiver.url("/cb/on-search"),
        )
        correlation_id = self.post("/registry/search", envelope).json()["message"]["correlation_id"]
        registry = type(self.env["spp.dci.registry.social"])
        with (
            patch.object(registry, "_dci_search", side_effect=RuntimeError(secret)),
            mute_logger("odoo.addons.spp_dci_server.services.answers"),
        ):
            self.run_jobs()
        generic = "err.service.unavailable: internal error; it has been logged"
        # the on-search callback
        [callback] = self.receiver.requests
        spec.validate_request("social", "/registry/on-search", callback["json"])
        self.assertEqual(callback["json"]["header"]["status"], "rjct")
        self.assertEqual(callback["json"]["header"]["status_reason_message"], generic)
        self.assertNotIn(b"Tr0ub4dor", callback["raw"])
        self.assertNotIn(b"RuntimeError", callback["raw"])
        # txn status, sync
        body = self.sync_status("correlation_id", correlation_id)
        [item] = body["message"]["txnstatus_response"]["txn_status"]["search_response"]
        self.assertEqual(
            (item["reference_id"], item["status"], item["status_reason_message"]),
            ("r-broken", "rjct", generic),
        )
        self.assertNotIn("Tr0ub4dor", json.dumps(body))
        self.assertNotIn("RuntimeError", json.dumps(body))
        # txn status, async (txn/on-status callback)
        self.receiver.requests.clear()
        status_envelope = self.status_envelope(
            "correlation_id", correlation_id, sender_uri=self.receiver.url("/cb/txn/on-status")
        )
        ack = self.assertSpecResponse(ASYNC, self.post(ASYNC, status_envelope))
        self.assertEqual(ack["message"]["ack_status"], "ACK")
        self.run_jobs()
        [callback] = self.receiver.requests
        spec.validate_request("social", "/registry/txn/on-status", callback["json"])
        self.assertIn(generic.encode(), callback["raw"])
        self.assertNotIn(b"Tr0ub4dor", callback["raw"])
        self.assertNotIn(b"RuntimeError", callback["raw"])
        # the details stay with us: the transaction (administrators) and the log
        txn = self.env["spp.dci.transaction"].search([("correlation_id", "=", correlation_id)])
        self.assertEqual((txn.state, txn.status_reason_code), ("failed", "err.service.unavailable"))
        self.assertIn(f"RuntimeError: {secret}", txn.sudo().error_detail, "for administrators")
        self.assertNotIn("Tr0ub4dor", txn.status_reason_message)
