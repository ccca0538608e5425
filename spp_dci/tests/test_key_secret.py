"""Keys that no longer decrypt: the start-up check and the recovery from the UI."""

import os
import subprocess
import sys
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

from ..dci import keys as dci_keys
from ..models.spp_dci_signing_key import dci_config_option

CHECK_LOGGER = "odoo.addons.spp_dci.models.spp_dci_signing_key_secret"
OTHER_SECRET = "another-checkout-made-this-secret-0123456789"


def make_key_under_other_secret(env, name="made under another key secret"):
    """An active key whose private key was encrypted with another key secret.

    As after running against this database with a regenerated ``key_secret``: the
    secret comes from the environment variable Odoo reads first.
    """
    with patch.dict(os.environ, {"SPP_DCI_KEY_SECRET": OTHER_SECRET}):
        key = env["spp.dci.signing.key"].create({"name": name})
    key.action_activate()
    return key


@tagged("post_install", "-at_install")
class TestKeySecretCheck(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Key = cls.env["spp.dci.signing.key"]

    def test_check_reports_an_undecryptable_active_key_once(self):
        key = make_key_under_other_secret(self.env)
        with self.assertLogs(CHECK_LOGGER, "ERROR") as logs:
            self.Key._register_hook()
        self.assertEqual(len(logs.records), 1)
        record = logs.records[0]
        self.assertEqual(record.levelname, "CRITICAL")
        message = record.getMessage()
        for expected in (key.kid, self.env.cr.dbname, "key_secret", "Replace the key pair"):
            self.assertIn(expected, message)
        for secret in (OTHER_SECRET, dci_config_option("key_secret")):
            self.assertNotIn(secret, "\n".join(logs.output))
        # reported once per process, not again on the next registry reload
        with self.assertNoLogs(CHECK_LOGGER, "WARNING"):
            self.Key._register_hook()

    def test_check_is_silent_when_the_key_decrypts(self):
        self.assertTrue(self.Key.search([("state", "=", "active")]).private_key_readable)
        with self.assertNoLogs(CHECK_LOGGER, "WARNING"):
            self.Key._register_hook()

    def test_check_is_silent_without_keys(self):
        self.Key.search([]).unlink()
        with self.assertNoLogs(CHECK_LOGGER, "WARNING"):
            self.Key._register_hook()

    def _start_odoo(self, secret=None):
        """Start Odoo on this database, as a server does, up to the loaded registry."""
        self.assertTrue(config.get("config"), "the tests run with an Odoo configuration file")
        env = {k: v for k, v in os.environ.items() if k != "SPP_DCI_KEY_SECRET"}
        if secret:
            env["SPP_DCI_KEY_SECRET"] = secret
        command = [sys.executable, "-m", "odoo", "-c", config["config"]]
        command += ["-d", self.env.cr.dbname, "--no-http", "--stop-after-init"]
        command += ["--log-level=warn"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        return done.stdout + done.stderr

    def test_server_start_reports_a_key_secret_that_does_not_match(self):
        # committed state: the key the installation made, encrypted with the configured secret
        active = self.Key.search([("state", "=", "active")])
        self.assertEqual(len(active), 1)
        output = self._start_odoo(secret=OTHER_SECRET)
        lines = [line for line in output.splitlines() if "spp_dci_signing_key_secret" in line]
        self.assertEqual(len(lines), 1, output[-3000:])
        self.assertIn(" CRITICAL ", lines[0])
        self.assertIn(active.kid, lines[0])
        self.assertIn("Replace the key pair", lines[0])
        self.assertNotIn(OTHER_SECRET, output)
        self.assertNotIn(dci_config_option("key_secret"), output)
        # with the secret of the configuration file: nothing to report
        output = self._start_odoo()
        self.assertNotIn("spp_dci_signing_key_secret", output, output[-3000:])


@tagged("post_install", "-at_install")
class TestReplaceKeyPair(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Key = cls.env["spp.dci.signing.key"]
        cls.admin = new_test_user(cls.env, "dci_key_admin", groups="spp_dci.group_dci_admin")

    def test_replace_the_key_pair(self):
        broken = make_key_under_other_secret(self.env, "broken")
        self.assertFalse(broken.private_key_readable)
        with self.assertRaises(dci_keys.KeyDecryptionError):
            self.Key._dci_signer()

        action = broken.with_user(self.admin).action_replace_key_pair()

        new = self.Key.browse(action["res_id"])
        self.assertEqual(new.state, "active")
        self.assertEqual(new.algorithm, broken.algorithm)
        self.assertTrue(new.private_key_readable)
        self.assertEqual(broken.state, "revoked")
        self.assertTrue(broken.revoked_at)
        signer = self.Key._dci_signer()
        self.assertEqual(signer.kid, new.kid)
        jwks = {jwk["kid"]: jwk for jwk in self.Key._dci_jwks()["keys"]}
        self.assertIn(new.kid, jwks)
        self.assertNotIn(broken.kid, jwks)
        data = b"signed after the replacement"
        self.assertTrue(dci_keys.PublicKey.from_jwk(jwks[new.kid]).verify(signer.sign(data), data))
        # the chatter of both keys tells what happened, by whom
        old_note = broken.message_ids[:1]
        self.assertIn(new.kid, str(old_note.body))
        self.assertEqual(old_note.author_id, self.admin.partner_id)
        self.assertIn(broken.kid, str(new.message_ids[:1].body))

    def test_only_an_undecryptable_active_key_is_replaced(self):
        working = self.Key.search([("state", "=", "active")])
        with self.assertRaises(UserError):
            working.with_user(self.admin).action_replace_key_pair()
        self.assertEqual(working.state, "active")
        broken = make_key_under_other_secret(self.env, "broken")
        broken.action_retire()
        with self.assertRaises(UserError):
            broken.with_user(self.admin).action_replace_key_pair()

    def test_case_workers_cannot_replace_keys(self):
        broken = make_key_under_other_secret(self.env, "broken")
        worker = new_test_user(self.env, "dci_key_worker", groups="spp_dci.group_dci_user")
        with self.assertRaises(AccessError):
            broken.with_user(worker).action_replace_key_pair()
        self.assertEqual(broken.state, "active")
