from odoo.tests import BaseCase, tagged

from ..dci import json_body


@tagged("post_install", "-at_install")
class TestJSONBody(BaseCase):
    """What PostgreSQL and JCS cannot keep is refused where the body is read."""

    def assertRefused(self, body, text):
        with self.assertRaises(json_body.JSONBodyError) as caught:
            json_body.loads(body)
        self.assertIn(text, str(caught.exception))
        return str(caught.exception)

    def test_nul_and_lone_surrogates_refused_with_their_place(self):
        self.assertIn("$.a", self.assertRefused(b'{"a": "x\\u0000"}', "NUL"))
        self.assertIn("$.a[1]", self.assertRefused(b'{"a": ["ok", "\\ud800"]}', "lone surrogate"))
        self.assertRefused(b'{"a": {"b": "\\uDC00"}}', "lone surrogate")
        self.assertIn("member name", self.assertRefused(b'{"k\\u0000": 1}', "NUL"))
        self.assertRefused('{"a": "\\ud83d"}', "lone surrogate")  # str bodies too

    def test_ordinary_json_is_parsed(self):
        self.assertEqual(json_body.loads(b'{"a": "\\ud83d\\ude00"}'), {"a": "\U0001f600"})
        self.assertEqual(
            json_body.loads(b'{"a": "\\u00e9", "b": [1, null]}'), {"a": "é", "b": [1, None]}
        )
        self.assertEqual(json_body.loads("[]"), [])

    def test_not_json(self):
        for body in (b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff", b"[" * 100000):
            with self.subTest(body=body[:10]):
                self.assertRefused(body, "is not valid JSON")

    def test_echoed_path_is_bounded(self):
        key = "k" * 1000
        body = '{"' + key + '": {"a": "\\u0000"}}'
        message = self.assertRefused(body.encode(), "NUL")
        self.assertLess(len(message), 300)
