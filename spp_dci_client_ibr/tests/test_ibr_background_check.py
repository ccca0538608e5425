# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A check of more registrants than one request holds: one queue job per batch."""

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IBRHttpCase


@tagged("post_install", "-at_install")
class TestIBRBackgroundCheck(IBRHttpCase):
    def setUp(self):
        super().setUp()
        self.source.ibr_batch_size = 2
        self.people = self.i1 | self.i2 | self.i3 | self.i4 | self.i5
        self.Run = self.env["spp.dci.check.run"]

    def start(self):
        result = self.check(self.people)
        self.assertEqual(result["res_model"], "spp.dci.check.run")
        return self.Run.browse(result["res_id"])

    def batch_jobs(self, run):
        return run.batch_ids.sudo().job_id

    def test_one_job_per_batch_with_progress(self):
        run = self.start()
        # nothing asked in the case worker's request: the run and its batches wait for the jobs
        self.assertFalse(self.searches())
        self.assertRecordValues(
            run,
            [
                {
                    "state": "running",
                    "user_id": self.case_worker.id,
                    "registrant_count": 5,
                    "batch_count": 3,
                    "batch_done": 0,
                    "progress": 0.0,
                }
            ],
        )
        self.assertEqual(run.batch_ids.mapped("partner_count"), [2, 2, 1])
        self.assertIn("3 batches", run.message_ids[0].body)
        self.assertEqual(self.Run.search([("state", "=", "running")]), run)

        # the first job queues one job per batch on the DCI channel, as the case worker
        (dispatch,) = self.run_queued_jobs().filtered(lambda j: "queue the batches" in j.name)
        self.assertEqual(dispatch.state, "done")
        jobs = self.batch_jobs(run)
        self.assertEqual(len(jobs), 3)
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        self.assertEqual(set(jobs.mapped("channel")), {"root.dci"})
        self.assertEqual(set(jobs.mapped("user_id")), {self.case_worker})

        self.assertEqual(
            [len(body["message"]["search_request"]) for body in self.searches()], [2, 2, 1]
        )
        self.assertStubSawValidRequests(self.stub)
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "batch_done": 3,
                    "batch_failed": 0,
                    "progress": 100.0,
                    "checked_count": 4,
                    "flagged_count": 2,
                    "problem_count": 1,
                }
            ],
        )
        self.assertTrue(run.finished_at)
        self.assertEqual(self.Run.search([("state", "=", "done")]), run)
        self.assertIn("Person 4: invalid IBR record", "\n".join(run.batch_ids.mapped("summary")))
        # the registrants hold what the IBR said, as with a check at once
        self.assertTrue(self.i1.ibr_is_enrolled and self.i2.ibr_is_enrolled)
        self.assertFalse(self.i3.ibr_is_enrolled or self.i5.ibr_is_enrolled)
        self.assertTrue(self.i5.ibr_checked_at)
        self.assertFalse(self.i4.ibr_checked_at)

    def test_a_failed_batch_fails_its_job_and_runs_again(self):
        run = self.start()
        dispatch = self.env["queue.job"].search([("model_name", "=", "spp.dci.data.source")])
        self.run_queued_job(dispatch)
        first, second, third = self.batch_jobs(run).sorted("id")
        self.run_queued_job(first)
        self.stub.mode = "forged"
        self.fail_queued_job(second, UserError)
        self.stub.mode = "ok"
        self.run_queued_job(third)

        # the failed batch is in the Job Queue's failed filter with the reason; the others stay
        self.assertEqual(second.state, "failed")
        self.assertIn("Bad signature", second.exc_message)
        self.assertEqual((first.state, third.state), ("done", "done"))
        self.assertRecordValues(
            run, [{"state": "failed", "batch_done": 2, "batch_failed": 1, "checked_count": 3}]
        )
        self.assertEqual(self.Run.search([("state", "=", "failed")]), run)
        failed_batch = run.batch_ids.filtered(lambda b: b.job_state == "failed")
        self.assertFalse(failed_batch.partner_ids.filtered("ibr_checked_at"))

        # "Run failed batches again" (an admin): the batch is checked, once
        run.with_user(self.env.ref("base.user_admin")).action_requeue_failed()
        self.assertEqual(second.state, "pending")
        self.run_queued_job(second)
        self.assertRecordValues(run, [{"state": "done", "batch_done": 3, "checked_count": 4}])
        self.assertEqual(len(self.searches()), 4)
        # requeued after it was applied: nothing asked again
        second.requeue()
        self.run_queued_job(second)
        self.assertEqual(len(self.searches()), 4)
        self.assertIn("already checked", second.result)

    def test_an_unreachable_registry_is_retried(self):
        run = self.start()
        dispatch = self.env["queue.job"].search([("model_name", "=", "spp.dci.data.source")])
        self.run_queued_job(dispatch)
        first = self.batch_jobs(run).sorted("id")[0]
        job = Job.load(self.env, first.uuid)
        self.stub.fail_next = ["503"]
        # postponed by the engine, not failed: the next try applies the batch
        with self.assertRaisesRegex(RetryableJobError, "503"):
            job.perform()
        self.assertEqual(run.state, "running")
        self.assertFalse(run.batch_ids[0].partner_ids.filtered("ibr_checked_at"))
        self.run_queued_job(first)
        self.assertEqual(first.state, "done")
        self.assertEqual(run.batch_done, 1)

    def test_a_selection_that_fits_one_request_is_checked_at_once(self):
        result = self.check(self.i1 | self.i2)
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(len(self.searches()), 1)
        self.assertFalse(self.Run.search([]))
