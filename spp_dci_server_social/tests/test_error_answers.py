"""Every kind of error answer, over real HTTP, for every kind of client.

Each answer keeps its DCI body (validated against the spec files), carries the
``errors`` list and the RFC 9457 members with ``Content-Type: application/json``
(``assertErrorMembers``), and is declared, with a schema it satisfies, under its
own status in our ``/openapi.json`` (what schemathesis' response_schema_conformance
checks). The token endpoint answers RFC 6749 errors.
"""

from jsonschema import Draft202012Validator

from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.actions import parse_endpoint_reply
from odoo.addons.spp_dci_server.services.ratelimit import limiter
from odoo.addons.spp_dci_server.tests.common import CLIENT_SECRET
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"
TOKEN = "/oauth2/client/token"


@tagged("post_install", "-at_install")
class TestErrorAnswers(SocialCase):
    def message(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        return {"transaction_id": "t-err", "search_request": [item]}

    def openapi(self):
        if not hasattr(self, "_openapi"):
            self._openapi = self.url_open(self.url("/openapi.json")).json()
        return self._openapi

    def assertDeclared(self, path, response, method="post"):
        """``response``'s status is declared for ``path`` (not only ``default``) and its
        body satisfies the declared schema."""
        doc = self.openapi()
        responses = doc["paths"][path][method]["responses"]
        status = str(response.status_code)
        self.assertIn(status, responses, f"{method.upper()} {path} does not declare {status}")
        schema = responses[status]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        errors = [error.message for error in validator.iter_errors(response.json())]
        self.assertFalse(errors, f"{path} {status}: {errors}")

    def rate_limited_token(self):
        self._make_sender("spmis-err-limited", self.sender_key, rate_limit=1)
        limiter.reset()
        token = self.get_token("spmis-err-limited")
        header = self.header("search", sender_id="spmis-err-limited")
        envelope = self.envelope(
            "search", self.message(), header=header, sender_id="spmis-err-limited"
        )
        self.assertEqual(self.post(SYNC, envelope, token=token).status_code, 200)
        return token

    def test_registry_error_answers(self):
        """401, 403 and the sync 400/409/413/415/429 refusals and async ERR ACKs."""
        token = self.token()
        envelope = self.envelope("search", self.message())
        self.assertEqual(self.post(SYNC, envelope).status_code, 200)
        header = dict(envelope["header"], message_ts=self.header("search")["message_ts"])
        duplicate = build_envelope(header, envelope["message"], self.sender_key, "spmis-test")
        huge = b'{"header": {}, "message": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        limited = self.rate_limited_token()
        search_only = self.get_token(scope="registry.search")
        answers = [
            (SYNC, self.post_raw(SYNC, b"{}"), 401, "err.request.unauthorized"),
            (
                "/registry/subscribe",
                self.post_raw("/registry/subscribe", b"{}", token=search_only),
                403,
                "err.request.forbidden",
            ),
            (SYNC, self.post_raw(SYNC, b"{nope", token=token), 400, "err.request.bad"),
            (SYNC, self.post(SYNC, duplicate), 409, "rjct.message_id.duplicate"),
            (SYNC, self.post_raw(SYNC, huge, token=token), 413, "err.request.bad"),
            (
                SYNC,
                self.post_raw(SYNC, b"{}", token=token, content_type="text/plain"),
                415,
                "err.request.bad",
            ),
            (SYNC, self.post_raw(SYNC, b"{}", token=limited), 429, "err.request.too_many_requests"),
            (ASYNC, self.post_raw(ASYNC, b"{nope", token=token), 400, "err.request.bad"),
            (ASYNC, self.post_raw(ASYNC, huge, token=token), 413, "err.request.bad"),
            (
                ASYNC,
                self.post_raw(ASYNC, b"{}", token=token, content_type="text/plain"),
                415,
                "err.request.bad",
            ),
            (
                ASYNC,
                self.post_raw(ASYNC, b"{}", token=limited),
                429,
                "err.request.too_many_requests",
            ),
        ]
        for path, response, status, code in answers:
            with self.subTest(path=path, status=status):
                if status in (401, 403):
                    self.assertHttpError(response, status, code)
                elif path == SYNC:
                    if code.startswith("rjct."):  # a header reason: status_reason_code
                        body = self.assertRejected(response, status, code)
                    else:  # err.*: the code leads status_reason_message
                        body = self.assertRejected(response, status, text=code)
                    self.assertEqual(body["errors"][0]["code"], code)
                    # the members beside the envelope leave its signature intact
                    self.assertSignedByUs(body)
                    self.assertEqual(parse_endpoint_reply(SYNC, body).header.status, "rjct")
                else:
                    self.assertErrAck(
                        response, status, "err.request.bad" if code.startswith("rjct") else code
                    )
                    self.assertEqual(response.json()["errors"][0]["code"], code)
                self.assertDeclared(path, response)
                self.assertHttpSigned(response)

    def foreign_kid(self, header):
        """``header`` (from spmis-test) with a signature whose kidId names another sender."""
        other = dict(header, sender_id="someone-else")
        signature = build_envelope(other, self.message(), self.sender_key, "someone-else")
        return {"signature": signature["signature"], "header": header, "message": self.message()}

    def test_kid_sender_mismatch_is_a_refusal(self):
        """kidId names another sender than header.sender_id: 400 err.sender_id.invalid,
        a signed rjct envelope (sync) or an ERR ACK (async), as docs/protocol.md says."""
        body = self.assertRejected(
            self.post(SYNC, self.foreign_kid(self.header("search"))),
            400,
            text="err.sender_id.invalid",
        )
        self.assertEqual(body["errors"][0]["code"], "err.sender_id.invalid")
        self.assertNotIn("status_reason_code", body["header"])
        header = self.header("search", sender_uri=self.receiver.url("/cb/on-search"))
        response = self.post(ASYNC, self.foreign_kid(header))
        self.assertErrAck(response, 400, "err.sender_id.invalid")
        self.assertDeclared(ASYNC, response)

    def test_errors_table_refusals_sync_and_async(self):
        """docs/protocol.md "Errors": each of these is a refusal, never an HttpErrorResponse;
        a header reason code is in status_reason_code (sync), every code in errors[0]."""
        token = self.token()
        uri = self.receiver.url("/cb/registry/on-search")
        for path in (SYNC, ASYNC):
            extra = {"sender_uri": uri} if path == ASYNC else {}
            first = self.envelope("search", self.message(), **extra)
            self.assertEqual(self.post(path, first).status_code, 200)
            reused = dict(self.header("search", **extra), message_id=first["header"]["message_id"])
            cases = [
                ("duplicate message_id", self.envelope("search", self.message(), header=reused)),
                ("kidId sender", self.foreign_kid(self.header("search", **extra))),
                ("invalid JSON", b'{"header": {'),
                (
                    "wrong action",
                    self.envelope(
                        "search", self.message(), header=self.header("subscribe", **extra)
                    ),
                ),
                (
                    "wrong version",
                    self.envelope("search", self.message(), version="2.0.0", **extra),
                ),
            ]
            expected = {
                "duplicate message_id": (409, "rjct.message_id.duplicate"),
                "kidId sender": (400, "err.sender_id.invalid"),
                "invalid JSON": (400, "err.request.bad"),
                "wrong action": (400, "rjct.action.invalid"),
                "wrong version": (400, "rjct.version.invalid"),
            }
            for name, envelope in cases:
                status, code = expected[name]
                with self.subTest(path=path, case=name):
                    response = self.post(path, envelope, token=token)
                    if path == SYNC:
                        header_reason = code.startswith("rjct.")
                        body = self.assertRejected(
                            response,
                            status,
                            code if header_reason else None,
                            text=None if header_reason else code,
                        )
                        self.assertEqual(
                            body["header"].get("status_reason_code"),
                            code if header_reason else None,
                        )
                    else:
                        # an ACK's error.code is err.*: the rjct.* reason leads its message
                        ack_code = {"rjct.version.invalid": "err.version.not_supported"}.get(
                            code, "err.request.bad" if code.startswith("rjct.") else code
                        )
                        body = self.assertErrAck(response, status, ack_code)
                    self.assertEqual(body["errors"][0]["code"], code, body)
                    self.assertDeclared(path, response)

    def test_token_errors_are_rfc6749(self):
        good = {
            "grant_type": "client_credentials",
            "client_id": "spmis-test",
            "client_secret": CLIENT_SECRET,
        }
        self._make_sender("spmis-err-other", allowed_registry_types="crvs")
        url = self.url(TOKEN)
        cases = [
            ({**good, "client_secret": "wrong"}, 401, "invalid_client"),
            ({**good, "client_id": "nobody"}, 401, "invalid_client"),
            ({**good, "grant_type": "password"}, 400, "unsupported_grant_type"),
            ({**good, "grant_type": ""}, 400, "invalid_request"),
            (
                {"grant_type": "client_credentials", "client_id": "spmis-test"},
                400,
                "invalid_request",
            ),
            ({**good, "scope": "registry.search mapper.link"}, 400, "invalid_scope"),
            ({**good, "client_id": "spmis-err-other"}, 400, "unauthorized_client"),
        ]
        responses = [(form, self.url_open(url, data=form), s, e) for form, s, e in cases]
        as_json = self.opener.post(self.base_url() + url, json=good, timeout=30)
        responses.append(("json", as_json, 400, "invalid_request"))
        for form, response, status, error in responses:
            with self.subTest(form=form):
                self.assertEqual(response.status_code, status, response.text)
                body = self.assertErrorMembers(response)
                self.assertEqual(body["error"], error, body)
                self.assertIsInstance(body["error_description"], str)
                self.assertRegex(body["error_description"], r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")
                self.assertNotIn("access_token", body)
                self.assertEqual(response.headers.get("Cache-Control"), "no-store")
                if status == 401:
                    self.assertEqual(response.headers["WWW-Authenticate"], 'Basic realm="dci"')
                self.assertDeclared(TOKEN, response)

    def test_openapi_declares_what_we_answer(self):
        doc = self.openapi()
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                with self.subTest(path=path, method=method):
                    self.assertNotIn("422", operation["responses"], "FastAPI's 422 never happens")
        self.assertNotIn("HTTPValidationError", doc["components"]["schemas"])
        for path in (SYNC, "/registry/sync/txn/status"):
            for status in ("400", "409", "413", "415", "429", "503"):
                self.assertIn(status, doc["paths"][path]["post"]["responses"])
        jwks = self.url_open(self.url("/.well-known/jwks.json"))
        self.assertDeclared("/.well-known/jwks.json", jwks, method="get")
        # not found / method not allowed: HttpErrorResponse with the same members
        self.assertHttpError(
            self.url_open(self.url("/registry/nothing"), data=b"{}"), 404, "err.request.not_found"
        )
