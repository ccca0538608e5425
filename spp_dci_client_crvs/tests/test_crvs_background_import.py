# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Background imports: one committed queue job per page, sorted, resumable, with progress."""

from datetime import timedelta

from odoo import fields
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.exception import FailedJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import FEBRUARY, JANUARY, CRVSHttpCase

IMPORT_LOGGER = "odoo.addons.spp_dci_client_crvs.models.spp_dci_data_source"


@tagged("post_install", "-at_install")
class TestCRVSBackgroundImport(CRVSHttpCase):
    def start(self, event, dates, trap):
        action = self.run_wizard(event, dates, mode="background")
        self.assertEqual(action["res_model"], "spp.dci.crvs.import")
        return self.env["spp.dci.crvs.import"].browse(action["res_id"])

    def perform_one(self, trap):
        """Run the one queued page job; returns its (run id, page) arguments."""
        (job,) = trap.enqueued_jobs
        self.assertEqual(job.method_name, "_crvs_import_page_job")
        self.assertEqual(job.channel, "root.dci")
        trap.perform_enqueued_jobs()
        self.env.invalidate_all()
        return job.args

    def perform_all(self, trap):
        pages = []
        while trap.enqueued_jobs:
            pages.append(self.perform_one(trap)[1])
        return pages

    def perform_failing(self, trap):
        """Run the queued page jobs until one fails: it raises (queue_job marks it failed)."""
        pages = []
        # not assertRaises: it rolls back what the block wrote, the pages before included
        try:
            while trap.enqueued_jobs:
                pages.append(trap.enqueued_jobs[0].args[1])
                trap.perform_enqueued_jobs()
        except FailedJobError as exc:
            caught = exc
        else:
            self.fail(f"no page job failed (pages {pages})")
        self.env.invalidate_all()
        self.assertFalse(trap.enqueued_jobs, "no page is queued after the failed one")
        return pages, str(caught)

    def test_one_job_per_page_with_progress(self):
        with trap_jobs() as trap:
            run = self.start("birth", JANUARY, trap)
            # the run is there at once, nothing sent before the first job runs
            self.assertEqual((run.state, run.page_size, run.next_page), ("running", 3, 1))
            self.assertEqual(run.user_id, self.case_worker)
            self.assertFalse(self.stub.requests)
            run.started_at = fields.Datetime.now() - timedelta(seconds=10)

            self.assertEqual(self.perform_one(trap), (run.id, 1))
            # page 1 is in: its progress is on the run while the next page waits in the queue
            self.assertEqual((run.state, run.page_count, run.next_page), ("running", 1, 2))
            self.assertEqual((run.record_count, run.total_count, run.page_total), (3, 8, 3))
            self.assertAlmostEqual(run.progress, 37.5)
            self.assertGreater(run.rate, 0)
            self.assertTrue(run.eta)
            self.assertCounts(run, created=2, updated=1)
            self.assertEqual(self.fatu.given_name, "Fatou")

            self.assertEqual(self.perform_all(trap), [2, 3])
        self.assertEqual((run.state, run.page_count, run.next_page), ("done", 3, 4))
        self.assertCounts(run, created=3, updated=1, skipped=4)
        self.assertEqual((run.record_count, run.progress, run.eta), (8, 100.0, False))
        self.assertTrue(run.finished_at)
        # a stable order for offset paging: sorted on the event's date, valid per the crvs spec
        self.assertStubSawValidRequests(self.stub)
        pages = []
        for body in self.searches():
            criteria = body["message"]["search_request"][0]["search_criteria"]
            self.assertEqual(
                criteria["sort"], [{"attribute_name": "birth_date", "sort_order": "asc"}]
            )
            pages.append(criteria["pagination"]["page_number"])
        self.assertEqual(pages, [1, 2, 3])

    def test_failure_resumes_from_the_failed_page(self):
        """Pages before the failure stay imported; Resume imports each record once."""
        self.stub.fail_after = 1  # page 1 is fine, page 2 comes forged
        with trap_jobs() as trap, mute_logger(IMPORT_LOGGER):
            run = self.start("birth", JANUARY, trap)
            pages, reason = self.perform_failing(trap)
        self.assertEqual(pages, [1, 2])
        self.assertIn(f"{run.name} stopped, resumable: Page 2:", reason)
        self.assertEqual(run.state, "failed")
        self.assertIn("Page 2:", run.error)
        self.assertIn("does not match its content", run.error)
        self.assertEqual((run.page_count, run.next_page, run.record_count), (1, 2, 3))
        self.assertEqual(self.holder("BRN", "BRN-1003"), self.fatu, "page 1 stays imported")
        self.assertIn(
            "stopped, 1 page(s) of 3 record(s) imported, resumable: Page 2:", run.summary()
        )

        self.stub.fail_after, self.stub.mode = None, "ok"
        with trap_jobs() as trap:
            self.assertTrue(run.with_user(self.case_worker).action_resume())
            self.assertEqual(run.state, "running")
            self.assertFalse(run.error)
            self.assertEqual(self.perform_all(trap), [2, 3])
        self.assertEqual(run.state, "done")
        self.assertEqual((run.page_count, run.record_count), (3, 8))
        self.assertCounts(run, created=3, updated=1, skipped=4)
        pages = [
            body["message"]["search_request"][0]["search_criteria"]["pagination"]["page_number"]
            for body in self.searches()
        ]
        self.assertEqual(pages, [1, 2, 2, 3], "page 1 is not fetched again")
        for value in ("BRN-1001", "BRN-1002", "BRN-1003", "BRN-1009"):
            held = self.env["spp.registry.id"].search([("value", "=", value)])
            self.assertEqual(len(held), 1, value)

    def test_a_page_job_runs_once(self):
        """A page job run again (requeued after its commit, a resume racing it) does nothing."""
        with trap_jobs() as trap:
            run = self.start("death", FEBRUARY, trap)
            self.assertEqual(self.perform_all(trap), [1])
        self.assertEqual(run.state, "done")
        self.assertCounts(run, updated=1, skipped=1)
        requests = len(self.stub.requests)
        result = self.source._crvs_import_page_job(run.id, 1)
        self.assertIn("page 1 already imported", result)
        self.assertEqual(len(self.stub.requests), requests)
        self.env.invalidate_all()
        self.assertEqual((run.record_count, run.page_count), (2, 1))
        (body,) = self.searches()
        criteria = body["message"]["search_request"][0]["search_criteria"]
        self.assertEqual(criteria["sort"], [{"attribute_name": "death_date", "sort_order": "asc"}])
        self.assertIn("no longer exists", self.source._crvs_import_page_job(run.id + 1000, 1))

    def test_resume_only_failed_background_imports(self):
        done = self.import_run("birth", JANUARY)  # "now": all or nothing, not resumable
        with self.assertRaisesRegex(UserError, "Only a failed background import"):
            done.with_user(self.case_worker).action_resume()
        self.stub.mode = "garbage"
        with trap_jobs() as trap, mute_logger(IMPORT_LOGGER):
            run = self.start("death", FEBRUARY, trap)
            self.perform_failing(trap)
        self.assertEqual((run.state, run.next_page), ("failed", 1))
        outsider = new_test_user(self.env, login="crvs_resume_outsider", groups="base.group_user")
        with trap_jobs() as trap, self.assertRaises(AccessError):
            run.with_user(outsider).action_resume()
        self.assertFalse(trap.enqueued_jobs)

    def test_scheduled_pull_continues_from_the_watermark(self):
        self.source.write({"crvs_scheduled_pull": True, "crvs_birth_watermark": "2025-01-01"})
        today = fields.Date.context_today(self.source)
        with trap_jobs() as trap:
            runs = self.env["spp.dci.data.source"]._crvs_cron_pull()
            self.assertEqual(
                sorted(runs.mapped(lambda r: (r.event_type, r.origin, str(r.date_from)))),
                [
                    ("birth", "pull", "2025-01-01"),
                    ("death", "pull", str(today - timedelta(days=1))),  # no watermark yet
                ],
            )
            self.assertEqual(set(runs.mapped("date_to")), {today})
            # a pull still running is not started twice
            self.assertFalse(self.env["spp.dci.data.source"]._crvs_cron_pull())
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
            self.env.invalidate_all()
        self.assertEqual(runs.mapped("state"), ["done", "done"])
        births = runs.filtered(lambda r: r.event_type == "birth")
        self.assertCounts(births, created=3, updated=1, skipped=4)
        self.assertEqual(
            (self.source.crvs_birth_watermark, self.source.crvs_death_watermark), (today, today)
        )
        # the next pull starts at the watermark: nothing before it is asked for again
        with trap_jobs() as trap:
            again = self.env["spp.dci.data.source"]._crvs_cron_pull()
            self.assertEqual(set(again.mapped("date_from")), {today})
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
            self.env.invalidate_all()
        self.assertEqual(sum(again.mapped("record_count")), 0)
        self.assertEqual(len(self.env["spp.registry.id"].search([("value", "=", "BRN-1001")])), 1)

    def test_failed_page_ends_a_failed_queue_job(self):
        """Run by queue_job's own runner, the failed page's job ends failed with the reason."""
        self.stub.mode = "garbage"
        run = self.start("death", FEBRUARY, None)
        record = self.env["queue.job"].search(
            [("method_name", "=", "_crvs_import_page_job"), ("state", "=", "pending")]
        )
        self.assertEqual(len(record), 1)
        job = Job.load(self.env, record.uuid)
        job.set_started()
        job.store()
        with mute_logger(IMPORT_LOGGER, "odoo.addons.queue_job.controllers.main"):
            try:
                RunJobController._runjob(self.env, job)
            except FailedJobError:
                pass
            else:
                self.fail("the page job did not fail")
        self.env.invalidate_all()
        self.assertEqual(record.state, "failed")
        self.assertEqual(record.exc_name, "odoo.addons.queue_job.exception.FailedJobError")
        self.assertIn(f"{run.name} stopped, resumable: Page 1:", record.exc_message)
        self.assertIn("not JSON", record.exc_message)

    def test_requeued_failed_job_resumes(self):
        """Requeuing the failed page job from the Job Queue continues the run, once."""
        self.stub.fail_after = 1
        with trap_jobs() as trap, mute_logger(IMPORT_LOGGER):
            run = self.start("birth", JANUARY, trap)
            self.perform_failing(trap)
        self.assertEqual((run.state, run.next_page), ("failed", 2))
        self.stub.fail_after, self.stub.mode = None, "ok"
        with trap_jobs() as trap:
            self.source._crvs_import_page_job(run.id, 2)  # what the requeued job runs
            self.env.invalidate_all()
            self.assertEqual((run.state, run.next_page, run.error), ("running", 3, False))
            self.assertEqual(self.perform_all(trap), [3])
        self.assertEqual(run.state, "done")
        self.assertCounts(run, created=3, updated=1, skipped=4)
