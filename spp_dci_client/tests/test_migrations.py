# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.modules.module import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.sql import column_exists, table_exists


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
        # 19.0.1.10.0 then makes the client secret the data source's peer's
        _script("spp_dci_client/migrations/19.0.1.10.0/post-migrate.py", "post-migrate").migrate(
            cr, "19.0.0.1.0"
        )
        self.env.invalidate_all()
        self.assertTrue(source.has_oauth2_client_secret and source.has_bearer_token)
        self.assertEqual(source._dci_secret("oauth2_client_secret"), "old-secret")
        self.assertEqual(source._dci_secret("bearer_token"), "old-token")
        script.migrate(cr, "19.0.0.1.0")  # run twice: nothing to do


def _script(path, name):
    return load_script(file_path(path), name)


@tagged("post_install", "-at_install")
class TestPeerMigration(TransactionCase):
    """Senders and data sources (and their two key models) become peers (server 19.0.1.5.0,
    client 19.0.1.10.0).

    The records are made with the ORM, then put back in the tables of the former
    code (SQL: the old columns and key tables, no peer), and the migration
    scripts of spp_dci_server and spp_dci_client run in Odoo's order.
    """

    def _pem(self):
        return SigningKey.generate().public_key.to_pem().decode()

    def _old_tables(self):
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """
            ALTER TABLE spp_dci_sender ALTER COLUMN peer_id DROP NOT NULL,
                ADD COLUMN client_id varchar, ADD COLUMN jwks_url varchar,
                ADD COLUMN jwks_allow_http boolean, ADD COLUMN signature_policy varchar,
                ADD COLUMN callback_hosts text, ADD COLUMN allow_private_callbacks boolean,
                ADD COLUMN client_secret_hash varchar, ADD COLUMN secret_set_at timestamp,
                ADD COLUMN callback_token_url varchar, ADD COLUMN callback_client_id varchar;
            UPDATE spp_dci_sender s
               SET client_id = p.dci_id, jwks_url = p.jwks_url, jwks_allow_http = p.jwks_allow_http,
                   signature_policy = p.signature_policy, callback_hosts = p.callback_hosts,
                   allow_private_callbacks = p.allow_private_callbacks,
                   client_secret_hash = p.client_secret_hash, secret_set_at = p.secret_set_at,
                   callback_token_url = p.token_url, callback_client_id = p.our_client_id
              FROM spp_dci_peer p WHERE p.id = s.peer_id;
            CREATE TABLE spp_dci_sender_key (
                id serial PRIMARY KEY, sender_id integer, active boolean, kid varchar,
                algorithm varchar, public_key text, create_uid integer, create_date timestamp,
                write_uid integer, write_date timestamp);
            ALTER TABLE spp_dci_data_source ALTER COLUMN peer_id DROP NOT NULL,
                ADD COLUMN registry_sender_id varchar, ADD COLUMN jwks_url varchar,
                ADD COLUMN require_signature boolean, ADD COLUMN tls_verify boolean,
                ADD COLUMN oauth2_token_url varchar, ADD COLUMN oauth2_client_id varchar;
            UPDATE spp_dci_data_source s
               SET registry_sender_id = p.dci_id, jwks_url = p.jwks_url,
                   require_signature = p.signature_policy = 'required', tls_verify = p.tls_verify,
                   oauth2_token_url = p.token_url, oauth2_client_id = p.our_client_id
              FROM spp_dci_peer p WHERE p.id = s.peer_id;
            CREATE TABLE spp_dci_data_source_key (
                id serial PRIMARY KEY, data_source_id integer, active boolean, kid varchar,
                algorithm varchar, key_data text, create_uid integer, create_date timestamp,
                write_uid integer, write_date timestamp);
            """
        )

    def _forget_peers(self, peers):
        cr = self.env.cr
        ids = [tuple(peers.ids)]
        cr.execute("DELETE FROM spp_dci_peer_key WHERE peer_id IN %s", ids)
        cr.execute("UPDATE spp_dci_sender SET peer_id = NULL WHERE peer_id IN %s", ids)
        cr.execute("UPDATE spp_dci_data_source SET peer_id = NULL WHERE peer_id IN %s", ids)
        cr.execute("DELETE FROM spp_dci_peer WHERE id IN %s", ids)

    def _migrate(self):
        cr = self.env.cr
        # the peer model's migrations: the server's 19.0.1.5.0, the client's 19.0.1.10.0
        for addon, version in (("spp_dci_server", "19.0.1.5.0"), ("spp_dci_client", "19.0.1.10.0")):
            for step in ("pre-migrate", "post-migrate"):
                path = f"{addon}/migrations/{version}/{step}.py"
                _script(path, step).migrate(cr, "19.0.0.4.0")
        self.env.invalidate_all()

    def test_senders_and_data_sources_become_peers(self):
        Sender = self.env["spp.dci.sender"]
        Source = self.env["spp.dci.data.source"]
        crvs_sender = Sender.create(
            {
                "name": "CRVS calls us",
                "client_id": "crvs.migration.peer",
                "jwks_url": "https://crvs.example.org/.well-known/jwks.json",
                "callback_hosts": "crvs.example.org",
                "signature_policy": "off",
            }
        )
        crvs_sender._dci_set_secret("crvs-secret-0123456789")
        mis_sender = Sender.create({"name": "MIS", "client_id": "mis.migration.peer"})
        crvs_source = Source.create(
            {
                "name": "CRVS we call",
                "base_url": "https://crvs.example.org/dci",
                "registry_sender_id": "crvs.migration.peer",
            }
        )
        dr_source = Source.create(
            {
                "name": "DR",
                "base_url": "https://dr.example.org/dci",
                "registry_sender_id": "dr.migration.peer",
                "jwks_url": "https://dr.example.org/.well-known/jwks.json",
                "require_signature": False,
                "tls_verify": False,
            }
        )
        peers = (crvs_sender | mis_sender).peer_id | (crvs_source | dr_source).peer_id
        self.assertEqual(len(peers), 3, "a data source of a sender's id joins its peer")
        self._old_tables()
        # the former code: signature policy and the JWKS URL on each side, keys of each model
        cr = self.env.cr
        cr.execute(
            "UPDATE spp_dci_data_source SET require_signature = true, jwks_url = %s WHERE id = %s",
            ("https://crvs.example.org/other-jwks.json", crvs_source.id),
        )
        sender_pem, source_pem, dr_pem = self._pem(), self._pem(), self._pem()
        cr.execute(
            "INSERT INTO spp_dci_sender_key (sender_id, active, kid, algorithm, public_key) "
            "VALUES (%s, true, 'k-sender', 'ed25519', %s)",
            (crvs_sender.id, sender_pem),
        )
        cr.execute(
            "INSERT INTO spp_dci_data_source_key "
            "(data_source_id, active, kid, algorithm, key_data) VALUES "
            "(%s, true, 'k-source', NULL, %s), (%s, true, 'k-sender', NULL, %s), "
            "(%s, false, 'k-dr', NULL, %s)",
            (crvs_source.id, source_pem, crvs_source.id, sender_pem, dr_source.id, dr_pem),
        )
        # our credentials, at the sender's token endpoint and at the registry's
        cr.execute(
            "UPDATE spp_dci_sender SET callback_token_url = %s, callback_client_id = %s "
            "WHERE id = %s",
            ("https://crvs.example.org/dci/oauth2/client/token", "openspp-cb", crvs_sender.id),
        )
        cr.execute(
            "UPDATE spp_dci_data_source SET oauth2_client_id = %s WHERE id = %s",
            ("openspp-ds", crvs_source.id),
        )
        cr.execute(
            "INSERT INTO spp_dci_secret (res_model, res_id, name, value) VALUES "
            "('spp.dci.sender', %s, 'callback_client_secret', 'cb-secret'), "
            "('spp.dci.data.source', %s, 'oauth2_client_secret', 'ds-secret'), "
            "('spp.dci.data.source', %s, 'oauth2_client_secret', 'dr-secret')",
            (crvs_sender.id, crvs_source.id, dr_source.id),
        )
        self._forget_peers(peers)

        self._migrate()

        crvs = crvs_sender.peer_id
        self.assertTrue(crvs, "the sender got a peer")
        self.assertEqual(crvs_source.peer_id, crvs, "one registry, one peer")
        self.assertEqual(crvs.dci_id, "crvs.migration.peer")
        self.assertEqual(crvs_sender.client_id, crvs_source.registry_sender_id)
        self.assertEqual(crvs.jwks_url, "https://crvs.example.org/.well-known/jwks.json")
        self.assertEqual(crvs.signature_policy, "required", "the stricter policy wins")
        self.assertTrue(crvs_source.require_signature)
        self.assertEqual(crvs.callback_hosts, "crvs.example.org")
        self.assertEqual(sorted(crvs.key_ids.mapped("kid")), ["k-sender", "k-source"])
        self.assertTrue(crvs_sender._dci_check_secret("crvs-secret-0123456789"))
        self.assertEqual(set(crvs._dci_peer_keys().keys), {"k-sender", "k-source"})
        self.assertEqual(
            (crvs.token_url, crvs.our_client_id),
            ("https://crvs.example.org/dci/oauth2/client/token", "openspp-ds"),
            "the data source's credentials win, the sender's fill in",
        )
        self.assertEqual(crvs_source._dci_secret("oauth2_client_secret"), "ds-secret")
        self.assertEqual(crvs_sender._dci_secret("callback_client_secret"), "ds-secret")
        self.assertEqual(dr_source._dci_secret("oauth2_client_secret"), "dr-secret")
        self.assertFalse(
            self.env["spp.dci.secret"]
            .sudo()
            .search([("res_model", "in", ("spp.dci.sender", "spp.dci.data.source"))])
            .filtered(lambda o: o.name != "bearer_token"),
            "no secret left on a direction record",
        )
        self.assertEqual(mis_sender.peer_id.dci_id, "mis.migration.peer")
        self.assertFalse(mis_sender.peer_id.key_ids)
        dr = dr_source.peer_id
        self.assertEqual(
            (dr.dci_id, dr.signature_policy, dr.tls_verify, dr.jwks_url),
            ("dr.migration.peer", "off", False, "https://dr.example.org/.well-known/jwks.json"),
        )
        self.assertEqual(dr.with_context(active_test=False).key_ids.mapped("active"), [False])
        for table, column in (
            ("spp_dci_sender", "client_id"),
            ("spp_dci_sender", "client_secret_hash"),
            ("spp_dci_data_source", "registry_sender_id"),
            ("spp_dci_data_source", "require_signature"),
        ):
            self.assertFalse(column_exists(cr, table, column), f"{table}.{column} is left")
        for table in ("spp_dci_sender_key", "spp_dci_data_source_key"):
            self.assertFalse(table_exists(cr, table), f"{table} is left")
        self._migrate()  # run twice: nothing to do
        self.assertEqual(len(crvs.key_ids), 2)
