from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

from ..dci import keys as dci_keys


@tagged("post_install", "-at_install")
class TestSigningKey(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Key = cls.env["spp.dci.signing.key"]

    def test_install_leaves_one_active_ed25519_key(self):
        active = self.Key.search([("state", "=", "active")])
        self.assertEqual(len(active), 1)
        self.assertEqual(active.algorithm, "ed25519")
        self.assertEqual(self.Key._dci_signer().kid, active.kid)

    def test_private_key_encrypted_at_rest(self):
        key = self.Key.create({"name": "k", "algorithm": "rsa-sha256"})
        pem = key.encrypted_private_key
        self.assertIn("BEGIN ENCRYPTED PRIVATE KEY", pem)
        self.assertNotIn("BEGIN PRIVATE KEY", pem)
        with self.assertRaises(dci_keys.KeyDecryptionError):
            dci_keys.SigningKey.from_encrypted_pem(pem, "x" * 32, algorithm="rsa-sha256")
        signer = dci_keys.SigningKey.from_encrypted_pem(
            pem, self.Key._dci_at_rest_secret(), algorithm="rsa-sha256", kid=key.kid
        )
        self.assertEqual(signer.public_key.to_jwk(), key.public_jwk)
        self.assertNotIn("PRIVATE", repr(signer))

    def test_rotation_publishes_active_and_retiring_only(self):
        old = self.Key._dci_signer()
        new = self.Key.create({"name": "next"})
        self.assertNotIn(new.kid, [k["kid"] for k in self.Key._dci_jwks()["keys"]])
        new.action_activate()
        self.assertEqual(self.Key._dci_signer().kid, new.kid)
        kids = [k["kid"] for k in self.Key._dci_jwks()["keys"]]
        self.assertEqual(set(kids), {old.kid, new.kid})
        # what the retiring key signed still verifies from the JWKS alone
        data = b"signed before rotation"
        sig = old.sign(data)
        jwk = next(k for k in self.Key._dci_jwks()["keys"] if k["kid"] == old.kid)
        self.assertTrue(dci_keys.PublicKey.from_jwk(jwk).verify(sig, data))
        self.Key.search([("kid", "=", old.kid)]).action_revoke()
        self.assertEqual([k["kid"] for k in self.Key._dci_jwks()["keys"]], [new.kid])

    def test_expiry_cron(self):
        key = self.Key.create(
            {"name": "short", "expires_at": fields.Datetime.now() - timedelta(minutes=1)}
        )
        key.action_activate()
        self.Key._cron_expire_keys()
        self.assertEqual(key.state, "expired")
        with self.assertRaises(UserError):
            self.Key._dci_signer()

    def test_key_material_is_immutable(self):
        key = self.Key.create({"name": "k"})
        with self.assertRaises(UserError):
            key.write({"public_pem": "forged"})
        # no context lets a caller swap the published key for one it holds
        forged = dci_keys.SigningKey.generate().public_key.to_jwk()
        for context in ({"spp_dci_key_material": True}, {"install_mode": True}):
            with self.assertRaises(UserError):
                key.with_context(**context).write({"public_jwk": forged, "kid": forged["kid"]})
        # nor can create() take material from the caller: it is derived from the new key
        other = self.Key.create({"name": "k2", "public_jwk": forged, "kid": forged["kid"]})
        signer = other._dci_signing_key()
        self.assertEqual(other.kid, signer.kid)
        self.assertEqual(other.public_jwk, signer.public_key.to_jwk())
        self.assertNotEqual(other.kid, forged["kid"])

    def test_case_worker_cannot_read_keys(self):
        user = new_test_user(self.env, "dci_case_worker", groups="spp_dci.group_dci_user")
        with self.assertRaises(AccessError):
            self.Key.with_user(user).search([]).read(["kid"])
        admin = new_test_user(self.env, "dci_admin", groups="spp_dci.group_dci_admin")
        keys = self.Key.with_user(admin).search([])
        self.assertTrue(keys.read(["kid"]))
        # the encrypted private key stays hidden from DCI administrators too
        with self.assertRaises(AccessError):
            keys.with_user(admin).read(["encrypted_private_key"])

    def test_missing_secret_warns_loudly(self):
        with (
            patch.dict(config._runtime_options, {"config": "/nonexistent/odoo.conf"}),
            self.assertLogs("odoo.addons.spp_dci.models.spp_dci_signing_key", "WARNING") as logs,
        ):
            secret = self.Key._dci_at_rest_secret()
        self.assertTrue(secret)
        self.assertIn("key_secret", logs.output[0])
