import uuid

from odoo.tests import tagged

from .common import DCIServerCase


@tagged("post_install", "-at_install")
class TestUnsupportedRegistry(DCIServerCase):
    """An endpoint whose registry type has no installed implementation.

    The type is the first of fr, crvs, ibr that no installed addon implements
    (spp_dci_demo implements crvs, ibr and dr for its demo registries).
    """

    @classmethod
    def _make_endpoint(cls):
        Registry = cls.env["spp.dci.registry"]
        free = [t for t in ("fr", "crvs", "ibr") if Registry._dci_implementation(t) is None]
        if not free:
            raise AssertionError("every registry type is implemented: no unsupported type to test")
        cls.spec_name = free[0]
        return cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI registry not implemented here",
                "app": "dci",
                "root_path": "/dci/unsupported-test",
                "dci_registry_type": free[0],
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )

    def test_no_implementation(self):
        self.assertIsNone(self.env["spp.dci.registry"]._dci_implementation(self.spec_name))
        self.assertEqual(self.endpoint.dci_implementation, "none installed")

    def test_every_registry_path_rejects_signed(self):
        item = {
            "reference_id": "r1",
            "timestamp": "2024-01-01T00:00:00Z",
            "search_criteria": {
                "query_type": "idtype-value",
                "query": {"type": "UIN", "value": "1"},
            },
        }
        requests = {
            "/registry/sync/search": ("search", {"transaction_id": "t", "search_request": [item]}),
            "/registry/search": ("search", {"transaction_id": "t", "search_request": [item]}),
            "/registry/subscribe": ("subscribe", {"transaction_id": "t", "subscribe_request": []}),
            "/registry/unsubscribe": (
                "unsubscribe",
                {"transaction_id": "t", "subscription_codes": ["x"]},
            ),
            "/registry/txn/status": ("txn-status", {"transaction_id": "t"}),
            "/registry/sync/txn/status": ("txn-status", {"transaction_id": "t"}),
        }
        for path, (action, message) in requests.items():
            with self.subTest(path=path):
                envelope = self.envelope(action, message, sender_uri=self.receiver.url("/cb"))
                response = self.post(path, envelope)
                self.assertNotEqual(response.status_code, 500)
                self.assertHttpSigned(response)
                if "/sync/" in path:
                    body = self.assertRejected(
                        response, 400, "rjct.action.not_supported", path=path
                    )
                    self.assertSignedByUs(body)
                else:
                    body = self.assertErrAck(response, 400, "err.request.bad", path=path)
                    self.assertTrue(
                        body["message"]["error"]["message"].startswith("rjct.action.not_supported")
                    )
                # even garbage is answered the same way, never with a 500
                response = self.post(path, b"\x00garbage")
                self.assertEqual(response.status_code, 400)
                self.assertSpecResponse(path, response)
        self.assertEqual(self.receiver.requests, [])

    def test_receivers_still_work(self):
        header = self.header("on-search", total_count=1)
        header.pop("total_count")
        header.update(status="succ", message_id=str(uuid.uuid4()))
        message = {
            "transaction_id": "t",
            "correlation_id": "c",
            "search_response": [
                {"reference_id": "r", "timestamp": "2024-01-01T00:00:00Z", "status": "succ"}
            ],
        }
        response = self.post(
            "/registry/on-search", self.envelope("on-search", message, header=header)
        )
        body = self.assertSpecResponse("/registry/on-search", response)
        # accepted by the server; an installed client addon may still refuse unknown senders
        client_decides = "spp.dci.client.receiver" in self.env.registry
        self.assertEqual(body["message"]["ack_status"], "ERR" if client_decides else "ACK", body)
        if client_decides:
            self.assertNotIn("rjct.action.not_supported", response.text)
