import json

from odoo.addons.spp_dci_server.services.paths import REGISTRY_PATHS
from odoo.addons.spp_dci_server.services.ratelimit import limiter
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"


@tagged("post_install", "-at_install")
class TestBadInput(SocialCase):
    """Bad input of any kind gets a spec body with the right code, never a 500."""

    def check_both(self, body, status, code, content_type="application/json"):
        sync = self.post_raw(SYNC, body, token=self.token(), content_type=content_type)
        rejected = self.assertRejected(sync, status, text=code)
        self.assertNotIn("Traceback", sync.text)
        asynchronous = self.post_raw(ASYNC, body, token=self.token(), content_type=content_type)
        self.assertErrAck(asynchronous, status, code)
        self.assertHttpSigned(asynchronous)
        return rejected

    def test_invalid_json(self):
        for body in (b"{not json", b"", b"\xff\xfe", b'{"header": NaN}', b"[1, 2]", b'"text"'):
            with self.subTest(body=body):
                self.check_both(body, 400, "err.request.bad")

    @mute_logger("python_multipart.multipart")  # the parser's own line on a broken form
    def test_wrong_content_type(self):
        body = json.dumps(
            self.search_envelope(self.search_item("idtype-value", {"type": "UIN", "value": "1"}))
        )
        self.check_both(body.encode(), 415, "err.request.bad", content_type="text/plain")
        self.check_both(body.encode(), 415, "err.request.bad", content_type="application/xml")
        # the search paths also take a file search: a broken form is a bad request
        self.check_both(
            b"a=b", 400, "err.request.bad", content_type="multipart/form-data; boundary=x"
        )

    def test_huge_body(self):
        body = b'{"header": {}, "message": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        self.check_both(body, 413, "err.request.bad")

    def test_wrong_types_and_missing_fields(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        good = self.search_envelope(item)
        cases = [
            ({"header": "nope", "message": good["message"]}, "err.request.bad"),
            ({"message": good["message"]}, "err.request.bad"),
            ({"header": good["header"]}, "err.request.bad"),
            (
                self.envelope(
                    "search", {"transaction_id": "t", "search_request": "all"}, total_count=1
                ),
                "err.request.bad",
            ),
            (
                self.envelope("search", {"transaction_id": 12, "search_request": [item]}),
                "err.request.bad",
            ),
            (self.envelope("search", {"search_request": [item]}), "err.request.bad"),
            (
                self.envelope(
                    "search", {"transaction_id": "t", "search_request": []}, total_count=0
                ),
                "err.request.bad",
            ),
            (
                self.envelope(
                    "search", {"transaction_id": "t", "search_request": [item]}, total_count="1"
                ),
                "rjct.total_count.invalid",
            ),
            (
                self.envelope(
                    "search", {"transaction_id": "t", "search_request": [item]}, message_id=""
                ),
                "err.request.bad",
            ),
        ]
        for envelope, code in cases:
            with self.subTest(envelope=envelope):
                response = self.post(SYNC, envelope)
                if code.startswith("rjct."):
                    self.assertRejected(response, 400, code)
                else:
                    self.assertRejected(response, 400, text=code)

    def test_rate_limit(self):
        """Counted from the sender's transactions of the last minute (every worker)."""
        self._make_sender("spmis-limited", self.sender_key, rate_limit=3)
        limiter.reset()
        token = self.get_token("spmis-limited")  # tokens have their own, per-process window
        statuses = []
        for _ in range(4):
            header = self.header("search", sender_id="spmis-limited")
            envelope = self.envelope(
                "search",
                {
                    "transaction_id": "t",
                    "search_request": [
                        self.search_item("idtype-value", {"type": "UIN", "value": "1"})
                    ],
                },
                header=header,
                sender_id="spmis-limited",
            )
            response = self.post(SYNC, envelope, token=token)
            statuses.append(response.status_code)
        self.assertEqual(statuses, [200, 200, 200, 429])
        self.assertRejected(response, 429, text="err.request.too_many_requests")
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertLessEqual(int(response.headers["Retry-After"]), 60)
        response = self.post_raw(ASYNC, b"{}", token=token)
        self.assertErrAck(response, 429, "err.request.too_many_requests")
        self.assertIn("Retry-After", response.headers)
        # the window is the database's: rows another worker wrote count the same
        sender = self.env["spp.dci.sender"].search([("client_id", "=", "spmis-limited")])
        self.env.cr.execute(
            "UPDATE spp_dci_transaction SET create_date = create_date - interval '61 seconds' "
            "WHERE sender_id = %s",
            (sender.id,),
        )
        response = self.post(SYNC, envelope, token=token)  # the refused 4th, not recorded
        self.assertEqual(response.status_code, 200, response.text)
        limiter.reset()

    def test_malformed_accept_language_is_ignored(self):
        """An unparsable Accept-Language is a preference we cannot read, not a 500."""
        for value in (">;", "en;q=x", ";;;"):
            with self.subTest(value=value):
                headers = {"Accept-Language": value}
                envelope = self.search_envelope(
                    self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
                )
                response = self.post(SYNC, envelope, headers=headers)
                body = self.assertSpecResponse(SYNC, response)
                self.assertEqual((response.status_code, body["header"]["status"]), (200, "succ"))
                response = self.opener.get(
                    self.base_url() + self.url("/.well-known/jwks.json"), headers=headers
                )
                self.assertEqual(response.status_code, 200, response.text)
                response = self.post_raw("/registry/on-search", b"{}", headers=headers)
                self.assertHttpError(response, 401, "err.request.unauthorized")

    def test_unstorable_text_is_a_client_error(self):
        """NUL and lone surrogates: 400 err.request.bad on every registry path, nothing written."""
        transactions = self.env["spp.dci.transaction"]
        # NUL has a JCS form, so it comes signed; lone surrogates have none, so they come
        # from a sender whose policy accepts unsigned messages
        self._make_sender("spmis-unsigned", signature_policy="off")
        cases = [("ZB-\x00", "spmis-test", True), ("ZB-\ud800", "spmis-unsigned", False)]
        cases.append(("\udc00ZB", "spmis-unsigned", False))
        for value, client_id, signed in cases:
            for path in REGISTRY_PATHS:
                item = self.search_item("idtype-value", {"type": "UIN", "value": value})
                message = {"transaction_id": "t-unstorable", "search_request": [item]}
                envelope = self.envelope(
                    "search",
                    message,
                    sender_id=client_id,
                    signed=signed,
                    sender_uri="http://127.0.0.1:9/registry/on-search",
                )
                body = json.dumps(envelope).encode()
                with self.subTest(path=path, value=ascii(value)):
                    before = transactions.search_count([])
                    response = self.post_raw(path, body, token=self.token(client_id))
                    self.assertEqual(response.status_code, 400, response.text)
                    self.assertIn("DCI text cannot hold", response.text)
                    if path in (SYNC, "/registry/sync/txn/status"):
                        self.assertRejected(response, 400, path=path, text="err.request.bad")
                    else:
                        self.assertErrAck(response, 400, "err.request.bad", path=path)
                    message_id = envelope["header"]["message_id"]
                    written = transactions.search([("message_id", "=", message_id)])
                    self.assertFalse(written.mapped("request_payload"), "no payload kept")
                    self.assertLessEqual(transactions.search_count([]) - before, 1)
        # a valid surrogate pair is ordinary text, and searched
        envelope = self.search_envelope(
            self.search_item("idtype-value", {"type": "UIN", "value": "ZB-\U0001f600"})
        )
        response = self.post(SYNC, envelope)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["header"]["status"], "succ")
