# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The page's new registrants are created in one batch; a refused one is skipped alone."""

from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..importer import CRVSUpsert
from .common import CRVSHttpCase
from .crvs_stub import crvs_person


@tagged("post_install", "-at_install")
class TestCRVSUpsertBatch(CRVSHttpCase):
    def upsert(self, records):
        run = self.source._crvs_new_run("search", event_type="birth")
        upsert = CRVSUpsert(self.env(su=True), run)
        upsert.apply(records, event="birth")
        upsert.flush()
        return run

    def test_one_partner_insert_per_page(self):
        records = [
            crvs_person([("BRN", f"B-{i}")], given=f"N{i}", surname="Batch", birth="2025-01-02")
            for i in range(20)
        ]
        queries = []
        execute = Cursor.execute

        def spy(cursor, query, params=None, log_exceptions=None):
            queries.append(str(getattr(query, "code", query)))
            return execute(cursor, query, params, log_exceptions)

        self.env.flush_all()
        with patch.object(Cursor, "execute", spy):
            run = self.upsert(records)
            self.env.flush_all()
        inserts = [q for q in queries if q.lstrip().startswith('INSERT INTO "res_partner"')]
        self.assertEqual(len(inserts), 1, "20 new registrants, one INSERT")
        self.assertCounts(run, created=20)
        self.assertEqual(self.holder("BRN", "B-7").name, "N7 Batch")
        # no creation message nor follower row per registrant: the run's lines are the trace
        created = run.line_ids.partner_id
        self.assertEqual(len(created), 20)
        domain = [("res_id", "in", created.ids)]
        self.assertFalse(
            self.env["mail.message"].search_count([("model", "=", "res.partner"), *domain])
        )
        self.assertFalse(
            self.env["mail.followers"].search_count([("res_model", "=", "res.partner"), *domain])
        )

    def test_same_person_twice_in_a_page(self):
        """The second record matches the registrant the first one created."""
        records = [
            crvs_person([("BRN", "T-1")], given="Twice", surname="Seen", birth="2025-01-02"),
            crvs_person(
                [("BRN", "T-1"), ("UIN", "T-U1")], given="Twice", surname="Seen", birth="2025-01-02"
            ),
        ]
        run = self.upsert(records)
        self.assertCounts(run, created=1, updated=1)
        partner = self.holder("BRN", "T-1")
        self.assertEqual(self.holder("UIN", "T-U1"), partner)
        self.assertEqual(len(self.env["spp.registry.id"].search([("value", "=", "T-1")])), 1)

    def test_a_refused_create_skips_that_record_only(self):
        # a real refusal by the database: a check the test adds (rolled back with the test)
        self.env.cr.execute(
            "ALTER TABLE res_partner ADD CONSTRAINT test_crvs_refused CHECK (given_name <> 'No')"
        )
        records = [
            crvs_person([("BRN", "F-1")], given="Yes", surname="One", birth="2025-01-02"),
            crvs_person([("BRN", "F-2")], given="No", surname="Two", birth="2025-01-02"),
            crvs_person([("BRN", "F-3")], given="Yes", surname="Three", birth="2025-01-02"),
        ]
        with mute_logger("odoo.sql_db"):
            run = self.upsert(records)
        self.assertCounts(run, created=2, skipped=1)
        (skipped,) = run.line_ids.filtered(lambda line: line.outcome == "skipped")
        self.assertEqual(skipped.identifiers, "BRN F-2")
        self.assertIn("could not be written", skipped.detail)
        self.assertTrue(self.holder("BRN", "F-1"))
        self.assertFalse(self.holder("BRN", "F-2"))
        self.assertTrue(self.holder("BRN", "F-3"))
