import json
import time
from datetime import UTC, datetime, timedelta

from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"


@tagged("post_install", "-at_install")
class TestHeadersAndSignatures(SocialCase):
    """Header checks and DCI signatures: each rejection reason, sync and async."""

    def item(self):
        return self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})

    def message(self):
        return {"transaction_id": "txn-1", "search_request": [self.item()]}

    def test_header_rejections_sync(self):
        cases = [
            ({"version": "2.0.0"}, 400, "rjct.version.invalid"),
            (
                {"message_ts": format_timestamp(datetime.now(UTC) - timedelta(hours=1))},
                400,
                "rjct.message_ts.invalid",
            ),
            ({"message_ts": "2024-01-01T10:00:00"}, 400, "rjct.message_ts.invalid"),
            ({"action": "subscribe"}, 400, "rjct.action.invalid"),
            ({"action": "dance"}, 400, "rjct.action.not_supported"),
            ({"total_count": 3}, 400, "rjct.total_count.invalid"),
        ]
        for values, status, code in cases:
            with self.subTest(values=values):
                header = self.header("search")
                header.update(values)
                envelope = self.envelope("search", self.message(), header=header)
                response = self.post(SYNC, envelope)
                self.assertRejected(response, status, code)
                self.assertSignedByUs(response.json())
        # rejected requests are recorded (for operators) without taking their message_id
        rejected = self.env["spp.dci.transaction"].search(
            [("sender_id", "=", self.sender.id), ("state", "=", "rejected")]
        )
        self.assertGreaterEqual(len(rejected), len(cases))

    def test_err_codes_sync_and_async(self):
        cases = [
            ({"receiver_id": "someone-else"}, 400, "err.receiver_id.invalid"),
            ({"sender_id": "spmis-other"}, 400, "err.sender_id.invalid"),
        ]
        for values, status, code in cases:
            with self.subTest(values=values):
                header = self.header("search", **values)
                envelope = build_envelope(
                    header, self.message(), self.sender_key, header["sender_id"]
                )
                self.assertRejected(self.post(SYNC, envelope), status, text=code)
                header = self.header(
                    "search", sender_uri=self.receiver.url("/cb/on-search"), **values
                )
                envelope = build_envelope(
                    header, self.message(), self.sender_key, header["sender_id"]
                )
                self.assertErrAck(self.post(ASYNC, envelope), status, code)
        envelope = self.envelope("search", self.message(), is_msg_encrypted=True)
        self.assertRejected(self.post(SYNC, envelope), 400, text="err.encryption.invalid")

    def test_header_rejections_async_are_err_acks(self):
        envelope = self.envelope(
            "search", self.message(), version="0.9", sender_uri=self.receiver.url("/cb/on-search")
        )
        body = self.assertErrAck(self.post(ASYNC, envelope), 400, "err.version.not_supported")
        self.assertIn("rjct.version.invalid", body["message"]["error"]["message"])
        envelope = self.envelope(
            "search", self.message(), total_count=2, sender_uri=self.receiver.url("/cb/x")
        )
        body = self.assertErrAck(self.post(ASYNC, envelope), 400, "err.request.bad")
        self.assertIn("rjct.total_count.invalid", body["message"]["error"]["message"])
        self.assertEqual(self.receiver.requests, [], "no callback for a rejected request")

    def test_duplicate_message_id_and_replay(self):
        envelope = self.envelope("search", self.message())
        first = self.post(SYNC, envelope)
        self.assertEqual(first.status_code, 200, first.text)
        # the very same signed bytes again: a re-send, answered as the first (test_resend.py)
        self.assertEqual(self.post(SYNC, envelope).status_code, 200)
        # a new signature over a reused message_id with another header is a duplicate
        header = dict(envelope["header"], message_ts=format_timestamp(datetime.now(UTC)))
        again = build_envelope(header, envelope["message"], self.sender_key, "spmis-test")
        self.assertRejected(self.post(SYNC, again), 409, "rjct.message_id.duplicate")

    def test_signature_valid_invalid_expired_unknown_missing(self):
        ok = self.post(SYNC, self.envelope("search", self.message()))
        self.assertEqual(ok.status_code, 200, ok.text)
        # tampered after signing
        envelope = self.envelope("search", self.message())
        envelope["message"]["search_request"][0]["search_criteria"]["query"]["value"] = "ZB-UIN-002"
        response = self.post(SYNC, envelope)
        self.assertHttpError(response, 401, "err.signature.invalid")
        # a signature problem is not a token problem: OAuth clients keep their token
        self.assertEqual(response.headers["WWW-Authenticate"], 'Bearer realm="dci"')
        response = self.post(SYNC, self.envelope("search", self.message()), token="not-a-token")
        self.assertHttpError(response, 401, "err.request.unauthorized")
        self.assertIn('error="invalid_token"', response.headers["WWW-Authenticate"])
        # expired (signed two hours ago for ten minutes)
        header = self.header("search")
        old = build_envelope(
            header, self.message(), self.sender_key, "spmis-test", now=time.time() - 7200
        )
        response = self.post(SYNC, old)
        self.assertHttpError(response, 401, "err.signature.invalid")
        self.assertIn("expired", response.json()["errors"][0]["message"])
        # a key the sender never registered
        stranger = SigningKey.generate()
        response = self.post(SYNC, self.envelope("search", self.message(), key=stranger))
        self.assertHttpError(response, 401, "err.signature.invalid")
        self.assertIn("unknown_key", response.json()["errors"][0]["message"])
        # no signature at all
        response = self.post(SYNC, self.envelope("search", self.message(), signed=False))
        self.assertHttpError(response, 401, "err.signature.missing")
        # garbage signature
        envelope = self.envelope("search", self.message())
        envelope["signature"] = "Signature: nonsense"
        self.assertHttpError(self.post(SYNC, envelope), 401, "err.signature.invalid")

    def test_signature_policy_off(self):
        self.sender.signature_policy = "off"
        try:
            response = self.post(SYNC, self.envelope("search", self.message(), signed=False))
            body = self.assertSpecResponse(SYNC, response)
            self.assertEqual(body["header"]["status"], "succ")
            txn = self.env["spp.dci.transaction"].search(
                [("correlation_id", "=", body["message"]["correlation_id"])]
            )
            self.assertEqual(txn.signature_state, "unsigned")
            # a signature that is present is still checked
            envelope = self.envelope("search", self.message(), key=SigningKey.generate())
            self.assertHttpError(self.post(SYNC, envelope), 401, "err.signature.invalid")
        finally:
            self.sender.signature_policy = "required"

    def test_keys_from_the_senders_jwks_url(self):
        key = SigningKey.generate()
        self.receiver.jwks = {"keys": [key.public_key.to_jwk()]}
        self._make_sender(
            "spmis-jwks", jwks_url=self.receiver.url("/jwks.json"), jwks_allow_http=True, key_ids=[]
        )
        token = self.get_token("spmis-jwks")
        header = self.header("search", sender_id="spmis-jwks")
        envelope = build_envelope(header, self.message(), key, "spmis-jwks")
        response = self.post(SYNC, envelope, token=token)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertGreaterEqual(self.receiver.jwks_hits, 1)
        # a kid the JWKS does not publish
        other = SigningKey.generate()
        envelope = build_envelope(
            self.header("search", sender_id="spmis-jwks"), self.message(), other, "spmis-jwks"
        )
        self.assertHttpError(self.post(SYNC, envelope, token=token), 401, "err.signature.invalid")

    def test_batch_size_limit(self):
        small = self.endpoint.copy(
            {"name": "DCI social (2 items)", "root_path": "/dci/social-2", "dci_max_items": 2}
        )
        small._handle_registry_sync()
        self.root = small.root_path
        token = self.get_token()
        items = [self.item() for _ in range(3)]
        envelope = self.envelope(
            "search", {"transaction_id": "t", "search_request": items}, total_count=3
        )
        self.assertRejected(
            self.post(SYNC, envelope, token=token), 413, "rjct.total_count.limit_exceeded"
        )
        envelope = self.envelope(
            "search", {"transaction_id": "t", "search_request": items[:2]}, total_count=2
        )
        self.assertEqual(self.post(SYNC, envelope, token=token).status_code, 200)

    def test_unreachable_jwks_is_service_unavailable(self):
        import socket

        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        key = SigningKey.generate()
        self._make_sender(
            "spmis-nojwks",
            jwks_url=f"http://127.0.0.1:{port}/jwks.json",
            jwks_allow_http=True,
            key_ids=[],
        )
        token = self.get_token("spmis-nojwks")
        header = self.header("search", sender_id="spmis-nojwks")
        envelope = build_envelope(header, self.message(), key, "spmis-nojwks")
        self.assertRejected(
            self.post(SYNC, envelope, token=token), 503, text="err.service.unavailable"
        )
        header = self.header(
            "search", sender_id="spmis-nojwks", sender_uri=self.receiver.url("/cb")
        )
        envelope = build_envelope(header, self.message(), key, "spmis-nojwks")
        self.assertErrAck(self.post(ASYNC, envelope, token=token), 503, "err.service.unavailable")

    def test_raw_body_is_what_is_verified(self):
        """Key order and spacing of the JSON do not matter (RFC 8785 digest)."""
        envelope = self.envelope("search", self.message())
        body = json.dumps(
            {
                "message": envelope["message"],
                "header": envelope["header"],
                "signature": envelope["signature"],
            },
            indent=3,
            sort_keys=True,
        ).encode()
        response = self.post(SYNC, body)
        self.assertEqual(response.status_code, 200, response.text)
