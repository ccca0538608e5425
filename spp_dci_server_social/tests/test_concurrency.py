"""An asynchronous search that meets a concurrent transaction is run again, a bounded
number of times, instead of answering the caller with a failure."""

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.spp_dci_server.tests.common import ConcurrencyMixin
from odoo.tests import tagged

from .common import SocialCase

ASYNC = "/registry/search"


@tagged("post_install", "-at_install")
class TestAsyncSearchRetriedOnLock(ConcurrencyMixin, SocialCase):
    def ask(self):
        # region_code reads res_country_state, which the other transaction locks
        query = self.expression({"address.region_code": {"$eq": "CA"}})
        envelope = self.search_envelope(
            self.search_item("expression", query),
            sender_uri=self.receiver.url("/spmis/registry/on-search"),
        )
        self.assertEqual(self.post(ASYNC, envelope).status_code, 200)
        txn = self.env["spp.dci.transaction"].search(
            [("message_id", "=", envelope["header"]["message_id"])]
        )
        return txn, self.stored_job("_dci_answer_queued")

    def test_locked_table_retried_then_answered(self):
        txn, job = self.ask()
        self.lock_timeout("200ms")
        with self.other_transaction() as other:
            other.execute("LOCK TABLE res_country_state IN ACCESS EXCLUSIVE MODE NOWAIT")
            with self.assertRaises(RetryableJobError):
                self.perform(job)
            self.assertEqual(txn.state, "received", "not answered with a failure")
            self.assertEqual(txn.delivery_state, "none")
            job.max_retries = 2
            with self.assertRaisesRegex(FailedJobError, r"Max\. retries \(2\) reached"):
                self.perform(job)
        job.max_retries, job.retry = 5, 0  # what requeueing the failed job does
        self.perform(job)
        self.assertEqual((txn.state, txn.delivery_state), ("done", "queued"))
        self.run_jobs(method="_dci_send_first_attempts")
        self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))
        self.assertFalse(txn.status_reason_code)
