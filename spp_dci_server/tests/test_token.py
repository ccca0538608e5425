import base64
import json
import time

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.addons.spp_dci_server.services.tokens import issue_token
from odoo.tests import tagged

from .common import CLIENT_SECRET, DCIServerCase


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@tagged("post_install", "-at_install")
class TestToken(DCIServerCase):
    """OAuth2 client credentials, bearer checks, JWKS and docs, over HTTP.

    The endpoint serves the crvs registry type; tokens, JWKS, docs and the
    bearer checks do not depend on an implementation being installed.
    """

    spec_name = "crvs"

    @classmethod
    def _make_endpoint(cls):
        return cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI test (no implementation)",
                "app": "dci",
                "root_path": "/dci/test-token",
                "dci_registry_type": "crvs",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )

    def test_token_issued_and_spec_valid(self):
        response = self.url_open(
            self.url("/oauth2/client/token"),
            data={
                "grant_type": "client_credentials",
                "client_id": "spmis-test",
                "client_secret": CLIENT_SECRET,
            },
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        spec.validate_response("authz", "/oauth2/client/token", body, status=200)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], "900")
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertHttpSigned(response)
        claims = _claims(body["access_token"])
        self.assertEqual(claims["sub"], "spmis-test")
        self.assertEqual(claims["aud"], self.root)
        self.assertEqual(claims["iss"], self.our_id)
        self.assertEqual(set(claims["scope"].split()), set(self.sender._dci_scopes()))
        self.assertLessEqual(claims["exp"] - claims["iat"], 900)
        # the token is a JWS by a key of our JWKS
        header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
        self.assertIn(header["kid"], self.our_public_keys())
        self.assertEqual(header["typ"], "at+jwt")

    def test_token_with_basic_auth_and_scope_subset(self):
        basic = base64.b64encode(f"spmis-test:{CLIENT_SECRET}".encode()).decode()
        response = self.url_open(
            self.url("/oauth2/client/token"),
            data={"grant_type": "client_credentials", "scope": "registry.search"},
            headers={"Authorization": f"Basic {basic}"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(_claims(response.json()["access_token"])["scope"], "registry.search")

    def test_token_rejections(self):
        url = self.url("/oauth2/client/token")
        good = {
            "grant_type": "client_credentials",
            "client_id": "spmis-test",
            "client_secret": CLIENT_SECRET,
        }
        cases = [
            ({**good, "client_secret": "wrong"}, 401, "err.request.unauthorized"),
            ({**good, "client_id": "nobody"}, 401, "err.request.unauthorized"),
            ({**good, "grant_type": "password"}, 400, "err.request.bad"),
            (
                {"grant_type": "client_credentials", "client_id": "spmis-test"},
                400,
                "err.request.bad",
            ),
            ({**good, "scope": "registry.search mapper.link"}, 400, "err.request.forbidden"),
        ]
        for form, status, code in cases:
            with self.subTest(form=form):
                response = self.url_open(url, data=form)
                self.assertHttpError(response, status, code)
                self.assertNotIn("access_token", response.text)
        # JSON instead of a form
        response = self.opener.post(self.base_url() + url, json=good, timeout=30)
        self.assertHttpError(response, 400, "err.request.bad")
        # the secret is never in the answer or the sender's readable fields
        self.assertNotIn(CLIENT_SECRET, json.dumps(self.sender.read()[0], default=str))

    def test_bearer_required_on_every_registry_path(self):
        paths = [
            "/registry/sync/search",
            "/registry/search",
            "/registry/subscribe",
            "/registry/unsubscribe",
            "/registry/txn/status",
            "/registry/sync/txn/status",
            "/registry/on-search",
            "/registry/on-subscribe",
            "/registry/on-unsubscribe",
            "/registry/notify",
            "/registry/txn/on-status",
        ]
        for path in paths:
            with self.subTest(path=path):
                response = self.post_raw(path, b"{}")
                self.assertHttpError(response, 401, "err.request.unauthorized")
                self.assertIn("Bearer", response.headers.get("WWW-Authenticate", ""))
                spec.validate_response(self.spec_name, path, response.json(), status=401)
                response = self.post_raw(path, b"{}", token="not.a.jwt")
                self.assertHttpError(response, 401, "err.request.unauthorized")

    def test_invalid_tokens(self):
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        scopes = ["registry.search"]
        expired, _ = issue_token(
            signer,
            issuer=self.our_id,
            audience=self.root,
            client_id="spmis-test",
            scopes=scopes,
            ttl=60,
            now=time.time() - 3600,
        )
        other_endpoint, _ = issue_token(
            signer,
            issuer=self.our_id,
            audience="/dci/elsewhere",
            client_id="spmis-test",
            scopes=scopes,
            ttl=600,
        )
        foreign, _ = issue_token(
            SigningKey.generate(),
            issuer=self.our_id,
            audience=self.root,
            client_id="spmis-test",
            scopes=scopes,
            ttl=600,
        )
        valid = self.get_token()
        tampered = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
        for token in (expired, other_endpoint, foreign, tampered):
            with self.subTest(token=token[:20]):
                response = self.post_raw("/registry/sync/search", b"{}", token=token)
                self.assertHttpError(response, 401, "err.request.unauthorized")

    def test_scope_and_registry_type_enforced(self):
        search_only = self.get_token(scope="registry.search")
        response = self.post_raw("/registry/subscribe", b"{}", token=search_only)
        self.assertHttpError(response, 403, "err.request.forbidden")
        spec.validate_response(self.spec_name, "/registry/subscribe", response.json(), status=403)
        # a sender not allowed on this registry type gets no token and no access
        stranger = self._make_sender("social-only", allowed_registry_types="social")
        response = self.url_open(
            self.url("/oauth2/client/token"),
            data={
                "grant_type": "client_credentials",
                "client_id": "social-only",
                "client_secret": CLIENT_SECRET,
            },
        )
        self.assertHttpError(response, 400, "err.request.forbidden")
        self.assertEqual(response.json()["error"], "unauthorized_client")
        # deactivating a sender invalidates its tokens at once
        token = self.get_token()
        self.sender.active = False
        response = self.post_raw("/registry/sync/search", b"{}", token=token)
        self.assertHttpError(response, 401, "err.request.unauthorized")
        self.sender.active = True
        self.assertTrue(stranger)

    def test_jwks_and_docs(self):
        response = self.url_open(self.url("/.well-known/jwks.json"))
        self.assertEqual(response.status_code, 200)
        body = response.json()
        errors = spec.schema_errors("jwks", "JWKSResponse", body)
        self.assertEqual(errors, [])
        active = self.env["spp.dci.signing.key"]._dci_signer()
        self.assertIn(active.kid, [k["kid"] for k in body["keys"]])
        self.assertFalse(any("d" in k for k in body["keys"]), "no private key material")
        self.assertHttpSigned(response)
        docs = self.url_open(self.url("/docs"))
        self.assertEqual(docs.status_code, 200)
        self.assertIn("swagger", docs.text.lower())
        openapi = self.url_open(self.url("/openapi.json")).json()
        for path in (
            "/registry/sync/search",
            "/registry/search",
            "/registry/notify",
            "/oauth2/client/token",
        ):
            self.assertIn(path, openapi["paths"])
        self.assertIn("requestBody", openapi["paths"]["/registry/sync/search"]["post"])

    def test_unknown_path_and_method(self):
        response = self.url_open(self.url("/registry/nothing"), data=b"{}")
        self.assertHttpError(response, 404, "err.request.not_found")
        response = self.url_open(self.url("/registry/sync/search"))
        self.assertHttpError(response, 405, "err.request.bad")

    def test_secret_shown_once_and_hashed(self):
        action = self.sender.action_generate_secret()
        secret = action["context"]["default_client_secret"]
        self.assertGreaterEqual(len(secret), 40)
        stored = self.sender.sudo().client_secret_hash
        self.assertNotIn(secret, stored)
        self.assertTrue(stored.startswith("hmac-sha256$"))
        wizard = self.env["spp.dci.sender.secret"].create(
            {"sender_id": self.sender.id, "client_secret": secret}
        )
        self.assertFalse(wizard.client_secret, "the secret is never stored by the wizard")
        self.assertTrue(self.sender._dci_check_secret(secret))
        self.assertFalse(self.sender._dci_check_secret(CLIENT_SECRET))
        self.sender._dci_set_secret(CLIENT_SECRET)

    def test_nul_in_credentials_is_a_client_error(self):
        """NUL cannot reach the failure count or sender lookup (PostgreSQL refuses it): 400."""
        url = self.url("/oauth2/client/token")
        form = {"grant_type": "client_credentials", "client_id": "spmis\x00", "client_secret": "x"}
        self.assertHttpError(self.url_open(url, data=form), 400, "err.request.bad")
        basic = base64.b64encode(b"spmis%00test:secret").decode()
        response = self.url_open(
            url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        self.assertHttpError(response, 400, "err.request.bad")
        # the sender lookup itself, which bearer tokens and Basic credentials also reach
        self.assertIsNone(self.env["spp.dci.sender"]._dci_sender_info("spmis\x00test"))
