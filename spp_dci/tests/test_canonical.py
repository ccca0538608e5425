"""RFC 8785 (JCS) vectors and the DCI digest form."""

import base64
import hashlib
import json
import random
import struct

import rfc8785
from pydantic import BaseModel, Field

from odoo.addons.spp_dci.dci.canonical import (
    CanonicalizationError,
    _plain,
    canonical_json,
    digest_sha256,
    to_json_data,
)
from odoo.tests import tagged
from odoo.tests.common import BaseCase

# RFC 8785 section 3.2.2: the input text of the serialisation example.
RFC8785_SAMPLE_INPUT = r"""
  {
    "numbers": [333333333.33333329, 1E30, 4.50,
                2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }
"""
# RFC 8785 section 3.2.3: its canonical form (shown wrapped in the RFC).
RFC8785_SAMPLE_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,'
    '1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)
# RFC 8785 section 3.2.4: the same, as UTF-8 bytes.
RFC8785_SAMPLE_HEX = """
  7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
  75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
  5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
  65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
  5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
  30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
"""
# RFC 8785 section 3.2.3: sorting test data and the expected order of values.
RFC8785_SORT_INPUT = r"""
  {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  }
"""
RFC8785_SORT_ORDER = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
]
# RFC 8785 Appendix B: IEEE 754 double (hex) -> JSON representation.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]
RFC8785_NOT_JSON = ["7fffffffffffffff", "7ff0000000000000"]  # NaN, Infinity


def _double(hex_value):
    return struct.unpack(">d", bytes.fromhex(hex_value))[0]


@tagged("post_install", "-at_install", "dci_core")
class TestCanonicalJson(BaseCase):
    def test_rfc8785_serialization_sample(self):
        parsed = json.loads(RFC8785_SAMPLE_INPUT)
        result = canonical_json(parsed)
        self.assertEqual(result.decode("utf-8"), RFC8785_SAMPLE_OUTPUT)
        self.assertEqual(result, bytes.fromhex("".join(RFC8785_SAMPLE_HEX.split())))

    def test_rfc8785_property_sorting_uses_utf16_code_units(self):
        parsed = json.loads(RFC8785_SORT_INPUT)
        result = json.loads(canonical_json(parsed))
        self.assertEqual(list(result.values()), RFC8785_SORT_ORDER)

    def test_rfc8785_number_samples(self):
        for hex_value, expected in RFC8785_NUMBERS:
            with self.subTest(ieee754=hex_value):
                self.assertEqual(canonical_json(_double(hex_value)), expected.encode("ascii"))

    def test_rfc8785_rejects_nan_and_infinity(self):
        for hex_value in RFC8785_NOT_JSON:
            with self.subTest(ieee754=hex_value), self.assertRaises(CanonicalizationError):
                canonical_json(_double(hex_value))

    def test_key_order_and_whitespace_do_not_change_bytes(self):
        first = json.loads('{"b": [1, {"y": 2, "x": 1.0}], "a": "\\u00e9"}')
        second = json.loads('{"a":"é","b":[1,{"x":1,"y":2}]}')
        self.assertEqual(canonical_json(first), canonical_json(second))
        self.assertEqual(canonical_json(first), '{"a":"é","b":[1,{"x":1,"y":2}]}'.encode())

    def test_out_of_domain_values_raise(self):
        for value in (2**53, {1: "int key"}, {"when": object()}):
            with self.subTest(value=repr(value)), self.assertRaises(CanonicalizationError):
                canonical_json(value)
        self.assertTrue(issubclass(CanonicalizationError, ValueError))

    def test_digest_form(self):
        value = {"header": {"b": 1, "a": 2}, "message": {}}
        expected = base64.b64encode(
            hashlib.sha256(b'{"header":{"a":2,"b":1},"message":{}}').digest()
        ).decode()
        self.assertEqual(digest_sha256(value), "SHA-256=" + expected)

    def test_pydantic_models_are_dumped_for_the_wire(self):
        class Query(BaseModel):
            id_type: str = Field(alias="type")
            value: str | None = None

        model = Query(type="UIN")
        self.assertEqual(to_json_data(model), {"type": "UIN"})
        self.assertEqual(canonical_json({"q": [model]}), b'{"q":[{"type":"UIN"}]}')

    def test_plain_json_written_by_the_c_encoder_as_rfc8785_writes_it(self):
        """Plain JSON takes the json.dumps path: the same bytes as the rfc8785 package."""
        rng = random.Random(8785)
        alphabet = [chr(code) for code in range(0x80)] + [
            "\u00e9",
            "\u0085",
            "\u2028",
            "\u2029",
            "\ufeff",
            "\ue000",
            "\uffff",
            "\U0001f600",
        ]

        def text():
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

        def value(depth=0):
            kind = rng.randrange(7 if depth < 3 else 4)
            if kind == 0:
                return text()
            if kind == 1:
                return rng.choice((True, False, None))
            if kind == 2:
                return rng.randint(-(2**53) + 1, 2**53 - 1)
            if kind == 3:
                return rng.choice((0, -1, 2**53 - 1, -(2**53) + 1))
            if kind in (4, 5):
                return {
                    text() if rng.random() < 0.3 else f"k{rng.randrange(9)}": value(depth + 1)
                    for _ in range(rng.randint(0, 4))
                }
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]

        plain = 0
        for _ in range(3000):
            data = {"header": value(), "message": value()}
            plain += _plain(data)
            self.assertEqual(canonical_json(data), rfc8785.dumps(data))
        self.assertGreater(plain, 1000)
        # not plain: left to rfc8785 (floats, big integers, astral keys, lone surrogates)
        self.assertFalse(_plain({"n": 1.5}))
        self.assertFalse(_plain({"n": 2**53}))
        self.assertFalse(_plain({"\U0001f600": 1, "\uffff": 2}))
        self.assertEqual(
            canonical_json({"\U0001f600": 1, "\uffff": 2}),
            rfc8785.dumps({"\U0001f600": 1, "\uffff": 2}),
        )
        self.assertEqual(canonical_json({"n": 1.0}), b'{"n":1}')
        with self.assertRaises(CanonicalizationError):
            canonical_json({"s": "\ud800"})
