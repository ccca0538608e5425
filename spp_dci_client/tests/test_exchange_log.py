# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The exchange log is written in its own transaction: it survives a rollback."""

from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.spp_dci_server.services import retention
from odoo.tests import TransactionCase, tagged

from .common import CLIENT_ID, CLIENT_SECRET, StubRegistryMixin


@tagged("post_install", "-at_install")
class TestExchangeLogSurvivesRollback(StubRegistryMixin, TransactionCase):
    """Real cursors here (no HttpCase test mode): every commit is a real COMMIT."""

    def committed_logs(self, domain):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["spp.dci.client.exchange.log"].search_read(
                domain, ["action", "status", "transaction_id"]
            )

    def forget_logs(self, domain):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["spp.dci.client.exchange.log"].search(
                domain
            ).unlink()

    def test_log_survives_a_rolled_back_business_transaction(self):
        stub = self.start_stub(sender_id="rollback.registry.test")
        stub.auth = ("oauth2", CLIENT_ID, CLIENT_SECRET)
        # a whole business transaction of its own, rolled back at the end
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            source = env["spp.dci.data.source"].create(
                {
                    "name": "Rolled back source",
                    "base_url": stub.url,
                    "registry_sender_id": stub.sender_id,
                    "jwks_url": stub.jwks_url,
                    "oauth2_client_id": CLIENT_ID,
                    "oauth2_client_secret": CLIENT_SECRET,
                }
            )
            partner = env["res.partner"].create({"name": "Imported from the registry"})
            result = source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
            transaction_id = result.message.transaction_id
            source_id, partner_id = source.id, partner.id
            cr.rollback()
        domain = [("data_source_ref", "=", source_id)]
        self.addCleanup(self.forget_logs, domain)

        # the business writes are gone...
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(env["spp.dci.data.source"].browse(source_id).exists())
            self.assertFalse(env["res.partner"].browse(partner_id).exists())
        # ...the exchange log is not (token request + search), with no dangling reference
        logs = self.committed_logs(domain)
        self.assertEqual(
            [(log["action"], log["status"]) for log in logs],
            [("search", "ok"), ("oauth2-token", "ok")],
        )
        self.assertEqual(logs[0]["transaction_id"], transaction_id)
        entry = self.env["spp.dci.client.exchange.log"].browse(logs[0]["id"])
        with self.registry.cursor() as cr:
            entry = entry.with_env(api.Environment(cr, SUPERUSER_ID, {}))
            self.assertEqual(entry.data_source_name, "Rolled back source")
            self.assertFalse(entry.data_source_id, "the data source no longer exists")

    def test_log_written_while_the_caller_fails(self):
        stub = self.start_stub(sender_id="failing.registry.test")
        source = self.make_source(stub)
        stub.mode = "garbage"
        try:
            with self.env.cr.savepoint():
                source._dci_sync_search("idtype-value", {"type": "UIN", "value": "UIN-0001"})
        except Exception as exc:
            self.assertIn("not JSON", str(exc))
        domain = [("data_source_ref", "=", source.id), ("action", "=", "search")]
        self.addCleanup(self.forget_logs, [("data_source_ref", "=", source.id)])
        logs = self.committed_logs(domain)
        self.assertEqual([log["status"] for log in logs], ["error"])


@tagged("post_install", "-at_install")
class TestExchangeLogHousekeeping(TransactionCase):
    def test_payloads_are_cut_and_old_entries_vacuumed(self):
        log = self.env["spp.dci.client.exchange.log"]
        self.env["ir.config_parameter"].sudo().set_param("spp_dci_client.log_payload_limit", "50")
        self.assertTrue(
            log._dci_payload({"x": "y" * 100}).endswith("[cut: 112 characters in total]")
        )
        old = log.create(
            {
                "exchange_time": fields.Datetime.now() - timedelta(days=100),
                "direction": "outgoing",
                "action": "search",
                "status": "ok",
            }
        )
        recent = log.create(
            {
                "exchange_time": fields.Datetime.now(),
                "direction": "outgoing",
                "action": "search",
                "status": "ok",
            }
        )
        log._gc_exchange_log()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())

    def test_old_entries_go_in_batches_oldest_first(self):
        log = self.env["spp.dci.client.exchange.log"]
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(retention.BATCH_SIZE, 2)
        params.set_param("spp_dci_client.log_retention_days", 30)
        now = fields.Datetime.now()

        def entry(days):
            return log.create(
                {
                    "exchange_time": now - timedelta(days=days),
                    "direction": "incoming",
                    "action": "on-search",
                    "status": "ok",
                    "request_payload": '{"personal": "data"}',
                }
            )

        # created newest first: the purge goes by exchange time, not by id
        old = log.browse()
        for days in (31, 40, 50, 60, 70):
            old = entry(days) | old
        recent = entry(1) | entry(29)
        self.assertEqual(log._gc_exchange_log(), (2, True))
        self.assertEqual(old.exists(), old[2:], "the two oldest went first")
        self.assertEqual(log._gc_exchange_log(), (2, True))
        self.assertEqual(log._gc_exchange_log(), (1, False))
        self.assertFalse(old.exists())
        self.assertEqual(recent.exists(), recent)
        params.set_param("spp_dci_client.log_retention_days", 0)
        self.assertEqual(log._gc_exchange_log(), (0, False))
        self.assertEqual(recent.exists(), recent)


@tagged("post_install", "-at_install")
class TestRetentionCoversEveryPayload(TransactionCase):
    """Every stored payload of the suite is in a table that a retention purge covers."""

    PURGES = {
        "spp.dci.transaction": "_gc_old_transactions",
        "spp.dci.inbox": "_gc_old_payloads",
        "spp.dci.notification": "_gc_old_payloads",
        "spp.dci.client.exchange.log": "_gc_exchange_log",
    }

    def test_every_payload_table_has_a_purge(self):
        holding = {
            name
            for name, model in self.env.registry.items()
            if name.startswith("spp.")
            and not model._abstract
            and any(
                field.store and (fname == "payload" or fname.endswith("_payload"))
                for fname, field in model._fields.items()
            )
        }
        self.assertEqual(holding, set(self.PURGES))
        for name, method in self.PURGES.items():
            func = getattr(type(self.env[name]), method)
            self.assertTrue(getattr(func, "_autovacuum", False), f"{name}.{method}")
