"""RFC 9421 HTTP signatures on incoming requests, over real HTTP.

The sender signs its request with the suite's one signer (the one our callbacks
use), next to a valid DCI body signature; what is present is verified, what is
absent is accepted unless the sender's *Require HTTP Signature* says otherwise.
"""

import base64
import json
import time

from odoo.addons.spp_dci.dci.http_signature import sign_request
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"


@tagged("post_install", "-at_install")
class TestIncomingHttpSignatures(SocialCase):
    def search_body(self, path):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        uri = self.receiver.url("/cb/registry/on-search") if path == ASYNC else None
        return json.dumps(self.search_envelope(item, sender_uri=uri)).encode()

    def signed_post(self, path, body=None, *, key=None, sent_body=None, tamper=None, **options):
        """POST ``sent_body`` (default ``body``) with an RFC 9421 signature over ``body``."""
        body = body or self.search_body(path)
        url = self.base_url() + self.url(path)
        headers = {"Content-Type": "application/json"}
        headers.update(sign_request("POST", url, headers, body, key or self.sender_key, **options))
        if tamper:
            headers = tamper(headers)
        return self.post(path, sent_body or body, headers=headers)

    def assertAccepted(self, path, response):
        body = self.assertSpecResponse(path, response)
        self.assertEqual(response.status_code, 200, body)
        if path == SYNC:
            self.assertEqual(body["header"]["status"], "succ", body)
            self.assertEqual(body["message"]["search_response"][0]["status"], "succ", body)
        else:
            self.assertEqual(body["message"]["ack_status"], "ACK", body)

    def assertRefusedSignature(self, response, code, reason):
        body = self.assertHttpError(response, 401, code)
        self.assertIn(reason, body["errors"][0]["message"])
        self.assertNotIn("invalid_token", response.headers.get("WWW-Authenticate", ""))
        self.assertHttpSigned(response)

    def test_valid_signature_is_accepted(self):
        for path in (SYNC, ASYNC):
            with self.subTest(path=path):
                self.assertAccepted(path, self.signed_post(path))

    def test_present_and_invalid_is_refused(self):
        def corrupt(headers):
            label, value = headers["Signature"].split("=:", 1)
            raw = bytearray(base64.b64decode(value.rstrip(":")))
            raw[0] ^= 0xFF
            return {**headers, "Signature": f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"}

        stranger = SigningKey.generate()
        cases = [
            ("corrupted", {"tamper": corrupt}, "bad_signature"),
            ("unknown keyid", {"key": stranger}, "unknown_key"),
            ("digest of another body", {"sent_body": b""}, "digest_mismatch"),
            (
                "@path not covered",
                {"covered_components": ("@method", "@authority", "content-digest")},
                "insufficient_coverage",
            ),
            ("expired", {"now": time.time() - 3600}, "expired"),
            (
                "Signature-Input without Signature",
                {"tamper": lambda h: {k: v for k, v in h.items() if k != "Signature"}},
                "no Signature",
            ),
        ]
        for path in (SYNC, ASYNC):
            for name, options, reason in cases:
                with self.subTest(path=path, case=name):
                    if options.get("sent_body") == b"":  # a valid envelope, not the signed one
                        options = {**options, "sent_body": self.search_body(path)}
                    response = self.signed_post(path, **options)
                    self.assertRefusedSignature(response, "err.signature.invalid", reason)
        rejected = self.env["spp.dci.transaction"].search(
            [("sender_id", "=", self.sender.id), ("state", "=", "rejected")]
        )
        self.assertGreaterEqual(len(rejected), 2 * len(cases), "refusals are recorded")

    def test_absent_is_accepted_unless_the_sender_requires_it(self):
        for path in (SYNC, ASYNC):
            with self.subTest(path=path, policy=False):
                self.assertAccepted(path, self.post(path, self.search_body(path)))
        self.assertFalse(self.sender.require_http_signature, "off by default")
        self.sender.require_http_signature = True
        for path in (SYNC, ASYNC):
            with self.subTest(path=path, policy=True):
                response = self.post(path, self.search_body(path))
                self.assertRefusedSignature(response, "err.signature.missing", "RFC 9421")
                # a draft-cavage "Signature" header alone is no RFC 9421 signature
                envelope = json.loads(self.search_body(path))
                response = self.post(
                    path,
                    json.dumps(envelope).encode(),
                    headers={"Signature": envelope["signature"]},
                )
                self.assertRefusedSignature(response, "err.signature.missing", "RFC 9421")
                self.assertAccepted(path, self.signed_post(path))

    def test_draft_cavage_signature_header_alone_is_left_alone(self):
        envelope = json.loads(self.search_body(SYNC))
        response = self.post(
            SYNC, json.dumps(envelope).encode(), headers={"Signature": envelope["signature"]}
        )
        self.assertAccepted(SYNC, response)

    def test_http_signature_by_a_key_from_the_senders_jwks(self):
        jwks_key = SigningKey.generate()
        self.receiver.jwks = {"keys": [jwks_key.public_key.to_jwk()]}
        self.sender.write({"jwks_url": self.receiver.url("/jwks.json"), "jwks_allow_http": True})
        self.assertAccepted(SYNC, self.signed_post(SYNC, key=jwks_key))

    def test_openapi_documents_the_headers_and_our_receiver_id(self):
        doc = self.url_open(self.url("/openapi.json")).json()
        for path in (SYNC, ASYNC, "/registry/subscribe", "/registry/on-search"):
            with self.subTest(path=path):
                parameters = {p["name"]: p for p in doc["paths"][path]["post"]["parameters"]}
                self.assertEqual(
                    set(parameters), {"Signature-Input", "Signature", "Content-Digest"}
                )
                for parameter in parameters.values():
                    self.assertEqual((parameter["in"], parameter["required"]), ("header", False))
        self.assertEqual(doc["info"]["x-dci-receiver-id"], self.our_id)
        # the system-wide id is read at each request (the pooled app is not rebuilt for it)
        self.env["ir.config_parameter"].set_param("spp_dci.sender_id", "openspp.renamed")
        doc = self.url_open(self.url("/openapi.json")).json()
        self.assertEqual(doc["info"]["x-dci-receiver-id"], "openspp.renamed")
