# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.modules.module import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.sql import table_exists


@tagged("post_install", "-at_install")
class TestSecretStoreMigration(TransactionCase):
    def test_secrets_move_to_the_shared_store(self):
        """post-migrate 19.0.0.2.0: spp.dci.client.secret rows go to spp.dci.secret."""
        source = self.env["spp.dci.data.source"].create(
            {
                "name": "Migrated",
                "base_url": "https://crvs.example.org/dci",
                "registry_sender_id": "crvs.migration.test",
            }
        )
        cr = self.env.cr
        # the table the former model spp.dci.client.secret left behind
        cr.execute(
            "CREATE TABLE spp_dci_client_secret "
            "(id serial PRIMARY KEY, data_source_id int, name varchar, value varchar)"
        )
        cr.execute(
            "INSERT INTO spp_dci_client_secret (data_source_id, name, value) "
            "VALUES (%s, 'oauth2_client_secret', 'old-secret'), (%s, 'bearer_token', 'old-token')",
            (source.id, source.id),
        )
        script = load_script(
            file_path("spp_dci_client/migrations/19.0.0.2.0/post-migrate.py"), "post-migrate"
        )
        script.migrate(cr, "19.0.0.1.0")
        self.assertFalse(table_exists(cr, "spp_dci_client_secret"), "no clear copy left")
        self.env.invalidate_all()
        self.assertTrue(source.has_oauth2_client_secret and source.has_bearer_token)
        self.assertEqual(source._dci_secret("oauth2_client_secret"), "old-secret")
        self.assertEqual(source._dci_secret("bearer_token"), "old-token")
        script.migrate(cr, "19.0.0.1.0")  # run twice: nothing to do
