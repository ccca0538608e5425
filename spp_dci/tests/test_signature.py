"""DCI body signature and envelope: round trips, tampering, time, parsing, errors, docs."""

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel

from odoo.addons.spp_dci.dci import signature as dci_signature
from odoo.addons.spp_dci.dci.canonical import canonical_json
from odoo.addons.spp_dci.dci.envelope import build_envelope, verify_envelope
from odoo.addons.spp_dci.dci.keys import ED25519, RSA_PSS_SHA512, RSA_SHA256, SigningKey
from odoo.addons.spp_dci.dci.signature import (
    AlgorithmMismatch,
    BadSignature,
    MalformedSignature,
    SenderMismatch,
    SignatureError,
    SignatureExpired,
    SignatureMissing,
    SignatureNotYetValid,
    UnknownSigningKey,
    body_digest,
    create_signature,
    parse_signature,
    signing_string,
    verify_signature,
)
from odoo.tests import tagged
from odoo.tests.common import BaseCase

SENDER = "spp.example.org"
NOW = 1735689600  # 2025-01-01T00:00:00Z

# --- The worked example of docs/protocol-signatures.md (RFC 8032 TEST 1 key) ---
DOC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
DOC_PUBLIC_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
DOC_HEADER = {
    "version": "1.0.0",
    "message_id": "0c96614c-7255-4774-b109-cd53ee851769",
    "message_ts": "2025-01-01T00:00:00.000Z",
    "action": "search",
    "sender_id": "spp.example.org",
    "receiver_id": "civilregistry.example.org",
    "total_count": 1,
    "is_msg_encrypted": False,
}
DOC_MESSAGE = {
    "transaction_id": "T-0001",
    "search_request": [
        {
            "reference_id": "R-1",
            "timestamp": "2025-01-01T00:00:00.000Z",
            "search_criteria": {
                "reg_type": "ns:org:RegistryType:Civil",
                "query_type": "idtype-value",
                "query": {"type": "UIN", "value": "1234567890"},
            },
        }
    ],
}
DOC_CANONICAL = (
    '{"header":{"action":"search","is_msg_encrypted":false,'
    '"message_id":"0c96614c-7255-4774-b109-cd53ee851769",'
    '"message_ts":"2025-01-01T00:00:00.000Z","receiver_id":"civilregistry.example.org",'
    '"sender_id":"spp.example.org","total_count":1,"version":"1.0.0"},'
    '"message":{"search_request":[{"reference_id":"R-1","search_criteria":'
    '{"query":{"type":"UIN","value":"1234567890"},"query_type":"idtype-value",'
    '"reg_type":"ns:org:RegistryType:Civil"},"timestamp":"2025-01-01T00:00:00.000Z"}],'
    '"transaction_id":"T-0001"}}'
)
DOC_DIGEST = "SHA-256=6zw6QyvavosnHRDD2waYBpDoeptmXSI2paVdpSoScRM="
DOC_SIGNING_STRING = "(created): 1735689600\n(expires): 1735690200\ndigest: " + DOC_DIGEST
DOC_SIGNATURE_B64 = (
    "kzRBxFTBE7Gr3OcH5JU+7G139I0wXjsdIMg/CxP0CDjTnAzWNUeTbcGBst2nTlV532l/TufAVwgNeTSyKjgIBw=="
)
DOC_SIGNATURE = (
    'Signature: namespace="spdci", kidId="spp.example.org|key-1|ed25519", algorithm="ed25519", '
    'created="1735689600", expires="1735690200", headers="(created) (expires) digest", '
    f'signature="{DOC_SIGNATURE_B64}"'
)
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "protocol-signatures.md"


def _header(**changes):
    header = {
        "version": "1.0.0",
        "message_id": "m-1",
        "message_ts": "2025-01-01T00:00:00Z",
        "action": "search",
        "sender_id": SENDER,
        "total_count": 1,
    }
    header.update(changes)
    return header


MESSAGE = {"transaction_id": "t-1", "search_request": [{"reference_id": "r-1", "note": "Zoë ✓"}]}


class _Registry:
    """A resolver over registered (sender_id, kid) pairs that records its calls."""

    def __init__(self, *keys, sender=SENDER):
        self.keys = {(sender, key.kid): key.public_key for key in keys}
        self.calls = []

    def __call__(self, sender_id, key_id):
        self.calls.append((sender_id, key_id))
        return self.keys.get((sender_id, key_id))


@tagged("post_install", "-at_install", "dci_core")
class TestDciSignature(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ed_key = SigningKey.generate(ED25519, kid="ed-1")
        cls.rsa_key = SigningKey.generate(RSA_SHA256, kid="rsa-1", rsa_key_size=2048)
        cls.pss_key = SigningKey.from_private_key(
            cls.rsa_key._private_key, algorithm=RSA_PSS_SHA512, kid="pss-1"
        )
        cls.registry = _Registry(cls.ed_key, cls.rsa_key, cls.pss_key)

    def _envelope(self, key=None, header=None, **kwargs):
        return build_envelope(
            header or _header(), MESSAGE, key or self.ed_key, SENDER, now=NOW, **kwargs
        )

    # --- round trips -----------------------------------------------------------------
    def test_round_trip_every_algorithm(self):
        for key in (self.ed_key, self.rsa_key, self.pss_key):
            with self.subTest(algorithm=key.algorithm):
                envelope = self._envelope(key)
                self.assertEqual(list(envelope), ["signature", "header", "message"])
                result = verify_envelope(envelope, self.registry, now=NOW + 5)
                self.assertEqual((result.sender_id, result.key_id), (SENDER, key.kid))
                self.assertEqual(result.algorithm, key.algorithm)
                self.assertEqual(
                    (result.created, result.expires), (NOW, NOW + dci_signature.DEFAULT_TTL)
                )

    def test_round_trip_through_json_text(self):
        envelope = self._envelope()
        wire = json.dumps(envelope, indent=3, ensure_ascii=True)  # other spacing and escaping
        received = json.loads(wire)
        received["header"] = dict(reversed(list(received["header"].items())))  # other key order
        self.assertTrue(verify_envelope(received, self.registry, now=NOW))

    def test_pydantic_models_are_signed_as_dumped(self):
        class Header(BaseModel):
            version: str = "1.0.0"
            message_id: str
            action: str
            sender_id: str
            receiver_id: str | None = None

        model = Header(message_id="m-9", action="search", sender_id=SENDER)
        envelope = build_envelope(model, MESSAGE, self.ed_key, SENDER, now=NOW)
        self.assertNotIn("receiver_id", envelope["header"])  # exclude_none
        self.assertTrue(verify_envelope(envelope, self.registry, now=NOW))

    def test_unsigned_envelope(self):
        envelope = build_envelope(_header(), MESSAGE, None, SENDER)
        self.assertNotIn("signature", envelope)
        with self.assertRaises(SignatureMissing) as caught:
            verify_envelope(envelope, self.registry)
        self.assertEqual(caught.exception.code, "err.signature.missing")
        self.assertIsNone(verify_envelope(envelope, self.registry, require_signature=False))

    def test_header_only_envelope(self):
        # a callback with header.status rjct has no message: signed over {"header"} as sent
        header = _header(action="on-search", status="rjct")
        envelope = build_envelope(header, None, self.ed_key, SENDER, now=NOW)
        self.assertNotIn("message", envelope)
        self.assertEqual(dci_signature.signing_payload(header, None), {"header": header})
        self.assertEqual(verify_envelope(envelope, self.registry, now=NOW).key_id, "ed-1")
        forged = copy.deepcopy(envelope)
        forged["header"]["status"] = "succ"
        with self.assertRaises(BadSignature):
            verify_envelope(forged, self.registry, now=NOW)
        # a message added in transit changes the digest
        with self.assertRaises(BadSignature):
            verify_envelope({**envelope, "message": {}}, self.registry, now=NOW)

    def test_builder_refuses_inconsistent_sender(self):
        with self.assertRaises(ValueError):
            build_envelope(_header(sender_id="other.example.org"), MESSAGE, self.ed_key, SENDER)
        with self.assertRaises(TypeError):
            build_envelope(_header(), ["not", "an", "object"], self.ed_key, SENDER)

    # --- tampering and keys ----------------------------------------------------------
    def test_tampered_header_or_message(self):
        envelope = self._envelope()
        for path, value in (
            (("header", "action"), "subscribe"),
            (("message", "transaction_id"), "t-2"),
        ):
            with self.subTest(field=".".join(path)):
                forged = copy.deepcopy(envelope)
                forged[path[0]][path[1]] = value
                with self.assertRaises(BadSignature) as caught:
                    verify_envelope(forged, self.registry, now=NOW)
                self.assertEqual(caught.exception.code, "err.signature.invalid")
        forged = copy.deepcopy(envelope)
        forged["message"]["extra"] = None  # even an added null member changes the digest
        with self.assertRaises(BadSignature):
            verify_envelope(forged, self.registry, now=NOW)

    def test_tampered_timestamps(self):
        envelope = self._envelope()
        forged = dict(
            envelope,
            signature=envelope["signature"].replace(
                f'expires="{NOW + 600}"', 'expires="2000000000"'
            ),
        )
        self.assertNotEqual(forged["signature"], envelope["signature"])
        with self.assertRaises(BadSignature):
            verify_envelope(forged, self.registry, now=NOW)

    def test_wrong_key(self):
        impostor = SigningKey.generate(ED25519, kid="ed-1")  # same kid, other key
        envelope = self._envelope(impostor)
        with self.assertRaises(BadSignature):
            verify_envelope(envelope, self.registry, now=NOW)

    def test_unknown_kid(self):
        stranger = SigningKey.generate(ED25519, kid="never-registered")
        with self.assertRaises(UnknownSigningKey) as caught:
            verify_envelope(self._envelope(stranger), self.registry, now=NOW)
        self.assertEqual(caught.exception.code, "err.signature.invalid")

    def test_algorithm_mismatch(self):
        # the key registered under this kid is RSA, the signature claims ed25519
        registry = _Registry(self.rsa_key)
        registry.keys[(SENDER, "ed-1")] = registry.keys.pop((SENDER, "rsa-1"))
        with self.assertRaises(AlgorithmMismatch):
            verify_envelope(self._envelope(), registry, now=NOW)
        # kidId and algorithm parameter disagree
        envelope = self._envelope()
        forged = envelope["signature"].replace('algorithm="ed25519"', 'algorithm="rsa-sha256"')
        with self.assertRaises(AlgorithmMismatch):
            verify_signature(
                forged, envelope["header"], envelope["message"], self.registry, now=NOW
            )
        # an RSA-PSS signature presented as PKCS#1 v1.5 under the same RSA key
        pss = self._envelope(self.pss_key)
        forged = (
            pss["signature"].replace("rsa-pss-sha512", "rsa-sha256").replace("pss-1|", "rsa-1|")
        )
        with self.assertRaises(BadSignature):
            verify_envelope(dict(pss, signature=forged), self.registry, now=NOW)

    def test_sender_mismatch(self):
        other = _Registry(self.ed_key, sender="other.example.org")
        envelope = build_envelope(
            _header(sender_id="other.example.org"), MESSAGE, self.ed_key, "other.example.org"
        )
        envelope["header"]["sender_id"] = SENDER  # the header claims someone else
        with self.assertRaises(SenderMismatch) as caught:
            verify_envelope(envelope, other)
        self.assertEqual(caught.exception.code, "err.sender_id.invalid")
        self.assertEqual(other.calls, [])  # refused before any key lookup
        with self.assertRaises(SenderMismatch):
            verify_envelope(
                self._envelope(), self.registry, expected_sender_id="other.example.org", now=NOW
            )

    # --- time ------------------------------------------------------------------------
    def test_expiry_and_clock_skew(self):
        envelope = self._envelope(ttl=300)
        self.assertTrue(verify_envelope(envelope, self.registry, now=NOW + 300 + 60))  # within skew
        with self.assertRaises(SignatureExpired):
            verify_envelope(envelope, self.registry, now=NOW + 300 + 61)
        with self.assertRaises(SignatureExpired):
            verify_envelope(envelope, self.registry, now=NOW + 301, clock_skew=0)

    def test_created_in_the_future(self):
        envelope = self._envelope()
        self.assertTrue(verify_envelope(envelope, self.registry, now=NOW - 60))
        with self.assertRaises(SignatureNotYetValid):
            verify_envelope(envelope, self.registry, now=NOW - 61)

    def test_max_validity(self):
        envelope = self._envelope(ttl=86400)
        self.assertTrue(verify_envelope(envelope, self.registry, now=NOW))
        with self.assertRaises(MalformedSignature):
            verify_envelope(envelope, self.registry, now=NOW, max_validity=3600)

    def test_expires_before_created(self):
        raw = self.ed_key.sign(signing_string(NOW, NOW - 1, body_digest(_header(), MESSAGE)))
        value = (
            f'kidId="{SENDER}|ed-1|ed25519", created="{NOW}", expires="{NOW - 1}", '
            f'signature="{base64.b64encode(raw).decode()}"'
        )
        with self.assertRaises(MalformedSignature):
            verify_signature(value, _header(), MESSAGE, self.registry, now=NOW)

    def test_now_accepts_datetime(self):
        when = datetime.fromtimestamp(NOW, tz=UTC)
        value = create_signature(_header(), MESSAGE, self.ed_key, SENDER, now=when)
        self.assertEqual(parse_signature(value).created, NOW)
        self.assertTrue(verify_signature(value, _header(), MESSAGE, self.registry, now=when))

    # --- syntax ----------------------------------------------------------------------
    def test_prefix_optional_and_keyid_alias(self):
        envelope = self._envelope()
        full = envelope["signature"]
        self.assertTrue(
            full.startswith('Signature: namespace="spdci", kidId="spp.example.org|ed-1|ed25519"')
        )
        bare = create_signature(_header(), MESSAGE, self.ed_key, SENDER, now=NOW, prefix=False)
        self.assertEqual("Signature: " + bare, full)
        variants = {
            "with prefix": full,
            "without prefix": bare,
            "spec double space": full.replace("Signature: ", "Signature:  "),
            "security-scheme spelling": "Signature : " + bare.replace("kidId=", "keyId="),
            "keyId alias": full.replace("kidId=", "keyId="),
            "lower-case names": full.replace("kidId=", "kidid=").replace(
                "algorithm=", "ALGORITHM="
            ),
            "no spaces": bare.replace(", ", ","),
            "dci namespace": full.replace('"spdci"', '"dci"'),
            "no namespace": bare.replace('namespace="spdci", ', ""),
            "no algorithm": bare.replace('algorithm="ed25519", ', ""),
            "no headers": bare.replace('headers="(created) (expires) digest", ', ""),
            "unquoted timestamps": bare.replace(f'created="{NOW}"', f"created={NOW}").replace(
                f'expires="{NOW + 600}"', f"expires={NOW + 600}"
            ),
            "trailing comma": bare + ",",
        }
        for name, value in variants.items():
            with self.subTest(variant=name):
                result = verify_signature(
                    value, envelope["header"], envelope["message"], self.registry, now=NOW
                )
                self.assertEqual(result.key_id, "ed-1")

    def test_headers_order_is_followed(self):
        order = ("digest", "(created)", "(expires)")
        raw = self.ed_key.sign(
            signing_string(NOW, NOW + 60, body_digest(_header(), MESSAGE), order)
        )
        value = (
            f'Signature: kidId="{SENDER}|ed-1|ed25519", created="{NOW}", expires="{NOW + 60}", '
            f'headers="digest (created) (expires)", signature="{base64.b64encode(raw).decode()}"'
        )
        self.assertTrue(verify_signature(value, _header(), MESSAGE, self.registry, now=NOW))

    def test_commas_and_escapes_inside_quotes(self):
        params = parse_signature(
            'kidId="a|b,c\\"d|ed25519", created="1", expires="2", signature="AAAA"'
        )
        self.assertEqual((params.sender_id, params.key_id), ("a", 'b,c"d'))
        self.assertEqual(params.signature, b"\x00\x00\x00")

    def test_malformed_signatures(self):
        bare = create_signature(_header(), MESSAGE, self.ed_key, SENDER, now=NOW, prefix=False)
        cases = {
            "empty": "",
            "not a string": None,
            "garbage": "hello world",
            "no kidId": bare.replace("kidId=", "foo="),
            "kidId without algorithm": bare.replace("|ed-1|ed25519", "|ed-1"),
            "empty key id": bare.replace("|ed-1|", "||"),
            "no signature": bare.split(', signature="')[0],
            "bad base64": bare.replace('signature="', 'signature="*'),
            "duplicate parameter": bare + f', created="{NOW}"',
            "unterminated quote": bare[:-1],
            "missing comma": bare.replace(", created", " created"),
            "float timestamp": bare.replace(f'created="{NOW}"', f'created="{NOW}.5"'),
            "no expires": bare.replace(f'expires="{NOW + 600}", ', ""),
            "digest not covered": bare.replace("(created) (expires) digest", "(created) (expires)"),
            "extra component": bare.replace("(expires) digest", "(expires) digest host"),
            "other namespace": bare.replace('"spdci"', '"other"'),
        }
        for name, value in cases.items():
            with self.subTest(case=name), self.assertRaises(MalformedSignature) as caught:
                verify_signature(value, _header(), MESSAGE, self.registry, now=NOW)
            self.assertEqual(caught.exception.code, "err.signature.invalid")
        with self.assertRaises(AlgorithmMismatch):  # an algorithm we do not support
            verify_signature(
                bare.replace("|ed25519", "|hs2019"), _header(), MESSAGE, self.registry, now=NOW
            )

    def test_errors_carry_spec_codes(self):
        codes = {
            SignatureMissing: "err.signature.missing",
            MalformedSignature: "err.signature.invalid",
            UnknownSigningKey: "err.signature.invalid",
            BadSignature: "err.signature.invalid",
            SignatureExpired: "err.signature.invalid",
            SignatureNotYetValid: "err.signature.invalid",
            AlgorithmMismatch: "err.signature.invalid",
            SenderMismatch: "err.sender_id.invalid",
        }
        reasons = set()
        for cls, code in codes.items():
            self.assertTrue(issubclass(cls, SignatureError))
            self.assertEqual(cls.code, code)
            reasons.add(cls.reason)
        self.assertEqual(len(reasons), len(codes))  # one distinct reason per class

    def test_resolver_errors_propagate(self):
        def broken(sender_id, key_id):
            raise ConnectionError("JWKS down")

        with self.assertRaises(ConnectionError):
            verify_envelope(self._envelope(), broken, now=NOW)

    def test_uncanonicalisable_message_is_a_bad_signature(self):
        envelope = self._envelope()
        envelope["message"]["big"] = 2**60
        with self.assertRaises(BadSignature):
            verify_envelope(envelope, self.registry, now=NOW)

    # --- the worked example of the documentation ---------------------------------------
    def test_documented_example(self):
        key = SigningKey.from_private_key(
            ed25519.Ed25519PrivateKey.from_private_bytes(DOC_SEED), kid="key-1"
        )
        self.assertEqual(key.public_key.key.public_bytes_raw().hex(), DOC_PUBLIC_HEX)
        self.assertEqual(
            canonical_json({"header": DOC_HEADER, "message": DOC_MESSAGE}).decode(), DOC_CANONICAL
        )
        self.assertEqual(body_digest(DOC_HEADER, DOC_MESSAGE), DOC_DIGEST)
        self.assertEqual(
            signing_string(1735689600, 1735690200, DOC_DIGEST).decode(), DOC_SIGNING_STRING
        )
        envelope = build_envelope(
            DOC_HEADER, DOC_MESSAGE, key, "spp.example.org", ttl=600, now=1735689600
        )
        self.assertEqual(envelope["signature"], DOC_SIGNATURE)
        registry = _Registry(key)
        result = verify_envelope(
            {"signature": DOC_SIGNATURE, "header": DOC_HEADER, "message": DOC_MESSAGE},
            registry,
            now=1735689700,
        )
        self.assertEqual(result.key_id, "key-1")

    def test_documentation_shows_the_tested_example(self):
        self.assertTrue(DOC_PATH.is_file(), f"missing {DOC_PATH}")
        text = DOC_PATH.read_text(encoding="utf-8")
        for expected in (
            DOC_PUBLIC_HEX,
            DOC_CANONICAL,
            DOC_DIGEST,
            DOC_SIGNING_STRING,
            DOC_SIGNATURE,
            json.dumps(DOC_SIGNATURE),  # as it appears inside the JSON envelope
        ):
            with self.subTest(expected=expected[:40]):
                self.assertIn(expected, text)
