"""The senders' callback client secret is write-only (spp_dci's secret store)."""

from odoo.exceptions import AccessError
from odoo.modules.module import load_script
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools.misc import file_path
from odoo.tools.sql import column_exists

SECRET = "callback-secret-abcdefghijklmnopqrstuvwxyz"


@tagged("post_install", "-at_install")
class TestCallbackClientSecret(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="dci_sender_admin",
            groups="base.group_system,spp_dci.group_dci_admin",
        )
        cls.sender = (
            cls.env["spp.dci.sender"]
            .with_user(cls.admin)
            .create(
                {
                    "name": "SP-MIS",
                    "client_id": "spmis-secret-test",
                    "callback_token_url": "https://spmis.example.org/oauth2/client/token",
                    "callback_client_id": "openspp",
                    "callback_client_secret": SECRET,
                }
            )
        )

    def test_secret_is_stored_but_never_read_back(self):
        sender = self.sender
        self.assertEqual(sender._dci_secret("callback_client_secret"), SECRET)
        self.assertTrue(sender.has_callback_client_secret)
        self.assertFalse(sender.callback_client_secret)
        self.assertFalse(sender.read(["callback_client_secret"])[0]["callback_client_secret"])
        form_fields = sender.get_views([(False, "form")])["models"]["spp.dci.sender"]["fields"]
        [data] = sender.web_read({name: {} for name in form_fields if name in sender._fields})
        self.assertFalse(data["callback_client_secret"])
        self.assertNotIn(SECRET, str(data))
        self.assertFalse(column_exists(self.env.cr, "spp_dci_sender", "callback_client_secret"))
        with self.assertRaises(AccessError):  # not even a system administrator
            self.env["spp.dci.secret"].with_user(self.admin).search([])
        # the form shows it empty; saving without typing one keeps it, typing replaces it
        with Form(sender) as form:
            self.assertFalse(form.callback_client_secret)
            form.callback_client_id = "openspp-2"
        self.assertEqual(sender._dci_secret("callback_client_secret"), SECRET)
        with Form(sender) as form:
            form.callback_client_secret = "replaced-secret"
        self.assertEqual(sender._dci_secret("callback_client_secret"), "replaced-secret")

    def test_copy_leaves_the_secret_behind(self):
        copy = self.sender.copy({"client_id": "spmis-secret-copy"})
        self.assertNotIn(SECRET, str(copy.copy_data()) + str(copy.sudo().read()))
        self.assertFalse(copy.has_callback_client_secret)
        self.assertIsNone(copy._dci_secret("callback_client_secret"))
        self.assertEqual(copy.callback_client_id, "openspp")
        secrets = self.env["spp.dci.secret"].sudo()
        peer = self.sender.peer_id
        peer_id = peer.id
        self.sender.unlink()
        self.assertEqual(
            peer._dci_secret("our_client_secret"), SECRET, "our credentials are the peer's"
        )
        peer.unlink()
        self.assertFalse(
            secrets.search([("res_model", "=", "spp.dci.peer"), ("res_id", "=", peer_id)]),
            "deleting a peer deletes its secrets",
        )

    def test_migration_moves_plain_values_out_of_the_table(self):
        """post-migrate 19.0.0.2.0: the former plain column becomes a stored secret.

        Then 19.0.1.5.0 makes it the sender's peer's (our client secret at the peer).
        """
        self.sender.peer_id._dci_forget_secrets()
        cr = self.env.cr
        cr.execute("ALTER TABLE spp_dci_sender ADD COLUMN callback_client_secret varchar")
        cr.execute(
            "UPDATE spp_dci_sender SET callback_client_secret = %s WHERE id = %s",
            ("plain-old-secret", self.sender.id),
        )
        script = load_script(
            file_path("spp_dci_server/migrations/19.0.0.2.0/post-migrate.py"), "post-migrate"
        )
        script.migrate(cr, "19.0.0.1.0")
        self.assertFalse(column_exists(cr, "spp_dci_sender", "callback_client_secret"))
        load_script(
            file_path("spp_dci_server/migrations/19.0.1.5.0/post-migrate.py"), "post-migrate"
        ).migrate(cr, "19.0.0.1.0")
        self.env.invalidate_all()
        self.assertEqual(self.sender._dci_secret("callback_client_secret"), "plain-old-secret")
        script.migrate(cr, "19.0.0.1.0")  # run twice: nothing to do
