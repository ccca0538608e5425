from odoo.modules.module import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path

MIGRATION = "spp_dci_server/migrations/19.0.1.6.0/post-migrate.py"


@tagged("post_install", "-at_install")
class TestTransactionIndexes(TransactionCase):
    """A transaction row writes no index entry that another index already holds."""

    def indexes(self):
        self.env.cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'spp_dci_transaction'"
        )
        return dict(self.env.cr.fetchall())

    def test_no_redundant_index(self):
        indexes = self.indexes()
        for name in load_script(file_path(MIGRATION), "post-migrate").REDUNDANT:
            self.assertNotIn(name, indexes)
        # what the dropped ones served is still indexed
        definitions = " | ".join(indexes.values())
        self.assertIn("UNIQUE INDEX spp_dci_transaction_correlation_id_unique", definitions)
        self.assertIn("(sender_id, create_date)", definitions)
        self.assertIn("WHERE ((state)::text = ANY ((ARRAY['rejected'", definitions)
        self.assertIn("WHERE ((delivery_state)::text = ANY ((ARRAY['queued'", definitions)

    def test_migration_drops_the_old_indexes(self):
        cr = self.env.cr
        cr.execute(
            "CREATE INDEX spp_dci_transaction__state_index ON spp_dci_transaction (state);"
            "CREATE INDEX spp_dci_transaction__sender_id_index ON spp_dci_transaction (sender_id)"
        )
        script = load_script(file_path(MIGRATION), "post-migrate")
        script.migrate(cr, "19.0.1.5.0")
        indexes = self.indexes()
        self.assertNotIn("spp_dci_transaction__state_index", indexes)
        self.assertNotIn("spp_dci_transaction__sender_id_index", indexes)
        script.migrate(cr, "19.0.1.5.0")  # again: nothing to do

    def test_filters_use_the_partial_indexes(self):
        cr = self.env.cr
        cr.execute("SET LOCAL enable_seqscan = off")
        for where in ("state = 'failed'", "delivery_state IN ('queued', 'retrying')"):
            cr.execute(f"EXPLAIN SELECT id FROM spp_dci_transaction WHERE {where}")
            plan = " ".join(row[0] for row in cr.fetchall())
            self.assertRegex(plan, r"spp_dci_transaction_(problem|delivery)_index", where)
