# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Concurrent transactions: retried and applied, never recorded as skipped records.

The other transaction is real: a second PostgreSQL connection that holds a
lock (an identifier it is inserting, not yet committed) or commits a row
after our transaction took its snapshot.
"""

import contextlib
from datetime import date

from odoo import SUPERUSER_ID, Command, api
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.spp_dci_server.tests.common import ConcurrencyMixin
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..importer import CRVSUpsert
from .common import JANUARY, CRVSCallbackCase
from .crvs_stub import crvs_person


@tagged("post_install", "-at_install")
class TestCallbackRetriedOnLock(ConcurrencyMixin, CRVSCallbackCase):
    @contextlib.contextmanager
    def identifier_being_registered(self, code, value):
        """Another transaction inserts ``(code, value)`` and keeps it uncommitted."""
        with self.other_transaction() as other:
            other.execute(
                "INSERT INTO spp_registry_id (partner_id, id_type_id, value) VALUES (%s, %s, %s)",
                (self.env.ref("base.partner_root").id, self.id_types[code].id, value),
            )
            yield

    def on_search_job(self):
        """Ask for January's births (async), let the CRVS call back; the inbox job."""
        self.run_wizard("birth", JANUARY, mode="callback")
        self.deliver()
        return self.stored_job("_dci_dispatch")

    def test_locked_identifier_retried_then_imported(self):
        job = self.on_search_job()
        inbox = self.env["spp.dci.inbox"].search([("dci_data_source_id", "=", self.source.id)])
        self.lock_timeout("300ms")
        with self.identifier_being_registered("BRN", "BRN-1001"):
            with self.assertRaises(RetryableJobError) as caught:
                self.perform(job)
        self.assertIn("LockNotAvailable", str(caught.exception))
        # nothing of the attempt stays: no run, no skipped person, the callback not failed
        self.assertFalse(self.source.crvs_import_ids)
        self.assertEqual(inbox.state, "received")
        self.assertFalse(self.holder("BRN", "BRN-1002"))

        # the other transaction is gone (rolled back): queue_job's next run imports all
        self.perform(job)
        run = self.source.crvs_import_ids
        self.assertCounts(run, created=3, updated=1, skipped=4)
        self.assertNotIn("lock", " ".join(run.line_ids.mapped("detail")))
        self.assertEqual(self.holder("BRN", "BRN-1001").name, "Amina Kadi Diallo")
        self.assertEqual(inbox.state, "processed")

    def test_background_import_retried_then_imported(self):
        self.run_wizard("birth", JANUARY, mode="background")
        run = self.source.crvs_import_ids
        job = self.stored_job("_crvs_import_page_job")
        self.lock_timeout("300ms")
        with self.identifier_being_registered("BRN", "BRN-1001"):
            with self.assertRaises(RetryableJobError):
                self.perform(job)
        # nothing of the page stays; the run waits for the page to run again
        self.assertEqual((run.state, run.next_page, run.page_count), ("running", 1, 0))
        self.assertFalse(run.line_ids)
        self.perform(job)
        performed = {job.uuid}
        while run.state == "running":  # the next pages, as the runner would
            self.env.flush_all()
            following = self.env["queue.job"].search(
                [
                    ("state", "=", "pending"),
                    ("method_name", "=", "_crvs_import_page_job"),
                    ("uuid", "not in", list(performed)),
                ],
                limit=1,
            )
            self.assertTrue(following, "the next page is queued")
            performed.add(following.uuid)
            self.perform(Job.load(self.env, following.uuid))
        self.assertCounts(run, created=3, updated=1, skipped=4)

    def test_retries_are_bounded(self):
        job = self.on_search_job()
        job.max_retries = 2
        self.lock_timeout("100ms")
        with self.identifier_being_registered("BRN", "BRN-1001"):
            with self.assertRaises(RetryableJobError):
                self.perform(job)
            with self.assertRaisesRegex(FailedJobError, r"Max\. retries \(2\) reached"):
                self.perform(job)
        self.assertFalse(self.source.crvs_import_ids, "still nothing half-imported")


@tagged("post_install", "-at_install")
class TestIdentifierRegisteredMeanwhile(TransactionCase):
    """Two real transactions (``registry.cursor()`` is a real cursor in a TransactionCase)."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            source = env["spp.dci.data.source"].create(
                {
                    "name": "Concurrent CRVS",
                    "registry_type": "crvs",
                    "base_url": "http://127.0.0.1:9",
                    "registry_sender_id": "concurrent.crvs.test",
                    "auth_type": "none",
                }
            )
            self.source_id = source.id
        self.addCleanup(self.forget)

    def forget(self):
        """Remove what the test committed."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            holders = env["spp.registry.id"].search([("value", "=", "BRN-7001")]).partner_id
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s",
                (tuple(holders.ids) or (0,),),
            )
            holders.unlink()
            env["spp.dci.data.source"].browse(self.source_id).unlink()  # runs cascade

    def test_unique_violation_updates_the_holder(self):
        record = crvs_person(
            [("BRN", "BRN-7001")], given="Amina", surname="Diallo", sex="female", birth="2025-01-03"
        )
        attempts = []
        with self.registry.cursor() as ours, self.registry.cursor() as theirs:
            env = api.Environment(ours, SUPERUSER_ID, {})
            other = api.Environment(theirs, SUPERUSER_ID, {})

            def import_page():
                attempts.append(len(attempts) + 1)
                source = env["spp.dci.data.source"].browse(self.source_id)
                run = source._crvs_new_run("search", event_type="birth")  # our snapshot
                if len(attempts) == 1:
                    # meanwhile another import registers the same newborn, and commits first
                    other["res.partner"].create(
                        {
                            "name": "Amina",
                            "is_registrant": True,
                            "registry_id_ids": [
                                Command.create(
                                    {
                                        "id_type_id": other.ref("spp_dci.id_type_brn").id,
                                        "value": "BRN-7001",
                                    }
                                )
                            ],
                        }
                    )
                    theirs.commit()
                upsert = CRVSUpsert(env, run)
                upsert.apply([record], event="birth")
                upsert.flush()
                return run.id

            # what Odoo does with the request that runs an import (and queue_job with a job)
            with mute_logger("odoo.sql_db", "odoo.service.model"):
                run_id = retrying(import_page, env)

        self.assertEqual(attempts, [1, 2], "the first attempt hit the identifier, then ran again")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            holder = env["spp.registry.id"].search([("value", "=", "BRN-7001")]).partner_id
            self.assertEqual(len(holder), 1)
            self.assertEqual(
                (holder.name, holder.sex, holder.birthdate),
                ("Amina Diallo", "female", date(2025, 1, 3)),
            )
            run = env["spp.dci.crvs.import"].browse(run_id)
            self.assertEqual((run.created_count, run.updated_count, run.skipped_count), (0, 1, 0))
            self.assertEqual(run.line_ids.partner_id, holder)
            self.assertEqual(
                len(env["spp.dci.crvs.import"].search([("data_source_id", "=", self.source_id)])), 1
            )
