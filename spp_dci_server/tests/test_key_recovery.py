import base64
import json

from odoo.addons.spp_dci.tests.test_key_secret import make_key_under_other_secret
from odoo.tests import new_test_user, tagged

from .common import CLIENT_SECRET, DCIServerCase


@tagged("post_install", "-at_install")
class TestKeyRecovery(DCIServerCase):
    """A key secret that no longer matches our key, then *Replace the key pair*, over HTTP."""

    spec_name = "crvs"

    @classmethod
    def _make_endpoint(cls):
        return cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI test (key recovery)",
                "app": "dci",
                "root_path": "/dci/test-key-recovery",
                "dci_registry_type": "crvs",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )

    def _jwks_kids(self):
        response = self.url_open(self.url("/.well-known/jwks.json"))
        self.assertEqual(response.status_code, 200, response.text)
        return response, [jwk["kid"] for jwk in response.json()["keys"]]

    def _token_request(self):
        return self.url_open(
            self.url("/oauth2/client/token"),
            data={
                "grant_type": "client_credentials",
                "client_id": "spmis-test",
                "client_secret": CLIENT_SECRET,
            },
        )

    def test_replace_the_key_pair_updates_the_jwks(self):
        broken = make_key_under_other_secret(self.env, "broken")
        # what a regenerated key secret does: no token, no signed answer
        with self.assertLogs("odoo.addons.spp_dci_server", "ERROR"):
            response = self._token_request()
            self.assertHttpError(response, 503, "err.service.unavailable")
            response, kids = self._jwks_kids()
        self.assertIn(broken.kid, kids)
        self.assertNotIn("Signature", response.headers)

        admin = new_test_user(self.env, "dci_http_key_admin", groups="spp_dci.group_dci_admin")
        action = broken.with_user(admin).action_replace_key_pair()
        new = self.env["spp.dci.signing.key"].browse(action["res_id"])

        response, kids = self._jwks_kids()
        self.assertIn(new.kid, kids)
        self.assertNotIn(broken.kid, kids)
        self.assertEqual(self.assertHttpSigned(response).key_id, new.kid)
        response = self._token_request()
        self.assertEqual(response.status_code, 200, response.text)
        token = response.json()["access_token"]
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        self.assertEqual(header["kid"], new.kid)
        self.assertHttpSigned(response)
