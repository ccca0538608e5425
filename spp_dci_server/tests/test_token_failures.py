"""The token endpoint under failed attempts: limits, one verify path, HMAC digests."""

from unittest.mock import patch

import passlib.context

from odoo.addons.spp_dci_server.services import client_secrets
from odoo.addons.spp_dci_server.services.ratelimit import limiter
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CLIENT_SECRET, DCIServerCase

TOKEN_LOGGER = "odoo.addons.spp_dci_server.services.token_endpoint"


@tagged("post_install", "-at_install")
class TestTokenFailures(DCIServerCase):
    spec_name = "crvs"

    @classmethod
    def _make_endpoint(cls):
        return cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI test (token failures)",
                "app": "dci",
                "root_path": "/dci/test-token-failures",
                "dci_registry_type": "crvs",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls._make_sender("spmis-other")

    def setUp(self):
        super().setUp()
        limiter.reset()  # the per-sender window of this process plays no part here
        self.set_limits(client=3, address=10)

    def set_limits(self, client, address):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("spp_dci_server.auth_failure_limit_client", str(client))
        params.set_param("spp_dci_server.auth_failure_limit_address", str(address))

    def request_token(self, client_id, secret):
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        with mute_logger(TOKEN_LOGGER):
            return self.url_open(self.url("/oauth2/client/token"), data=form)

    def assertTooMany(self, response):
        body = self.assertHttpError(response, 429, "err.request.too_many_requests")
        self.assertIn("failed authentication", body["errors"][0]["message"])
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60, response.headers)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertNotIn("access_token", response.text)

    def failure_rows(self, key):
        self.env.cr.execute("SELECT count(*) FROM spp_dci_auth_failure WHERE key = %s", (key,))
        return self.env.cr.fetchone()[0]

    def test_bad_secrets_get_429_after_the_limit(self):
        for _attempt in range(3):
            response = self.request_token("spmis-test", "wrong")
            self.assertHttpError(response, 401, "err.request.unauthorized")
        self.assertTooMany(self.request_token("spmis-test", "wrong"))
        # the client id is locked for the window, even with its right secret...
        self.assertTooMany(self.request_token("spmis-test", CLIENT_SECRET))
        # ...and the 429s wrote nothing: the table holds the three failures only
        self.assertEqual(self.failure_rows("client:spmis-test"), 3)
        self.assertEqual(self.failure_rows("address:127.0.0.1"), 3)
        # another client from the same address still gets its token
        self.assertEqual(self.request_token("spmis-other", CLIENT_SECRET).status_code, 200)

    def test_address_limit_spans_client_ids(self):
        self.set_limits(client=100, address=4)
        for number in range(4):
            response = self.request_token(f"nobody-{number}", "guess")
            self.assertHttpError(response, 401, "err.request.unauthorized")
        self.assertTooMany(self.request_token("spmis-other", CLIENT_SECRET))
        # a long, caller-chosen client id is counted under a short key
        self.set_limits(client=100, address=0)
        response = self.request_token("x" * 5000, "guess")
        self.assertHttpError(response, 401, "err.request.unauthorized")
        self.env.cr.execute("SELECT key FROM spp_dci_auth_failure WHERE key LIKE 'client:sha256:%'")
        [(key,)] = self.env.cr.fetchall()
        self.assertLess(len(key), 100)

    def test_failures_of_other_workers_count(self):
        """The counts are rows in the database: failures seen by another worker count here."""
        self.env["spp.dci.auth.failure"].sudo().create(
            [{"key": "client:spmis-test", "failed_at": "2000-01-01 00:00:00"}]
            + [{"key": "client:spmis-test", "failed_at": self.cr.now()} for _ in range(3)]
        )
        self.assertTooMany(self.request_token("spmis-test", CLIENT_SECRET))
        # rows older than the window do not count
        self.env["spp.dci.auth.failure"].sudo().search([("failed_at", ">", "2001-01-01")]).unlink()
        self.assertEqual(self.request_token("spmis-test", CLIENT_SECRET).status_code, 200)
        self.env["spp.dci.auth.failure"]._gc_auth_failures()
        self.assertEqual(self.failure_rows("client:spmis-test"), 0, "the autovacuum drops old rows")

    def test_unknown_and_known_ids_take_the_same_path(self):
        calls = []
        with (
            patch.object(client_secrets, "verify", wraps=client_secrets.verify) as verify,
            patch.object(client_secrets, "digest", wraps=client_secrets.digest) as digest,
            patch.object(client_secrets._legacy, "verify") as legacy,
        ):
            for client_id in ("nobody-at-all", "spmis-test"):
                verify.reset_mock()
                digest.reset_mock()
                response = self.request_token(client_id, "wrong-secret")
                calls.append((verify.call_args.args, digest.call_count, response.json()))
        (unknown_args, unknown_digests, unknown_body), (known_args, known_digests, known_body) = (
            calls
        )
        self.assertIsNone(unknown_args[2], "an unknown client is checked against nothing stored")
        self.assertTrue(known_args[2].startswith("hmac-sha256$"))
        self.assertEqual((unknown_digests, known_digests), (1, 1), "one HMAC each")
        legacy.assert_not_called()
        self.assertEqual(unknown_body, known_body, "the same answer")

    def test_pbkdf2_secret_still_works_and_is_rehashed(self):
        # what the former code stored (passlib PBKDF2-SHA512, 25000 rounds)
        old = passlib.context.CryptContext(["pbkdf2_sha512"], pbkdf2_sha512__rounds=25000)
        self.sender.sudo().client_secret_hash = old.hash(CLIENT_SECRET)
        self.assertHttpError(
            self.request_token("spmis-test", "wrong"), 401, "err.request.unauthorized"
        )
        self.assertTrue(self.sender.sudo().client_secret_hash.startswith("$pbkdf2-sha512$"))
        self.assertEqual(self.request_token("spmis-test", CLIENT_SECRET).status_code, 200)
        self.sender.invalidate_recordset()
        stored = self.sender.sudo().client_secret_hash
        self.assertTrue(stored.startswith("hmac-sha256$"), stored)
        self.assertNotIn(CLIENT_SECRET, stored)
        with patch.object(client_secrets._legacy, "verify") as legacy:
            self.assertEqual(self.request_token("spmis-test", CLIENT_SECRET).status_code, 200)
        legacy.assert_not_called()

    def test_digest_is_keyed_by_the_server_secret(self):
        key = self.env["spp.dci.sender"]._dci_client_secret_key()
        stored = self.sender.sudo().client_secret_hash
        self.assertEqual(stored, client_secrets.hash_secret(key, CLIENT_SECRET))
        self.assertNotEqual(stored, client_secrets.hash_secret(b"another key" * 3, CLIENT_SECRET))
        # a digest made under another server secret is refused (and recognised as such)
        other = client_secrets.hash_secret(b"another key" * 3, CLIENT_SECRET)
        self.assertEqual(client_secrets.verify(key, CLIENT_SECRET, other), (False, False))
        self.assertTrue(client_secrets.is_stale(key, other))
        self.assertFalse(client_secrets.is_stale(key, stored))
