"""Stored callbacks whose job was cancelled, failed or lost do not wait for ever: the
cron writes them failed (an administrator's cancel stands) or queues them again."""

from odoo.tests import tagged

from .common import AsyncCase


@tagged("post_install", "-at_install")
class TestStrandedDeliveries(AsyncCase):
    def answered(self, count=2):
        """``count`` answered async requests whose send job is pending."""
        txns = self.env["spp.dci.transaction"]
        for _request in range(count):
            txns |= self.ask()
        self.run_jobs(method="_dci_answer_queued")
        self.assertEqual(set(txns.mapped("delivery_state")), {"queued"})
        return txns

    def sweep(self, txns, older_than_minutes=-1):
        """Run the sweep; which of ``txns`` it swept (others of the database may be too).
        -1: rows written up to now count (``Datetime.now()`` drops the microseconds: a row
        of this second would not be older than 0 minutes)."""
        done = self.env["spp.dci.transaction"]._dci_sweep_stranded_deliveries(
            older_than_minutes=older_than_minutes
        )
        self.env.invalidate_all()
        return txns.browse(sorted(set(done.get("spp.dci.transaction", [])) & set(txns.ids)))

    def test_cron_is_installed(self):
        cron = self.env.ref("spp_dci_server.ir_cron_sweep_stranded_deliveries")
        self.assertTrue(cron.active)
        self.assertEqual(cron.model_id.model, "spp.dci.transaction")

    def test_a_live_send_job_is_left_alone(self):
        txns = self.answered()
        self.assertFalse(self.sweep(txns))
        self.assertEqual(set(txns.mapped("delivery_state")), {"queued"})
        self.assertEqual(self.send_callbacks(), ["2 sent"])

    def test_cancelled_send_job_fails_its_callbacks_until_retried(self):
        txns = self.answered()
        [send] = self.send_jobs()
        send.button_cancelled()
        self.assertEqual(self.sweep(txns), txns)
        self.assertEqual(set(txns.mapped("delivery_state")), {"failed"})
        for txn in txns:
            self.assertIn("cancelled in the Job Queue", txn.delivery_last_error)
            self.assertIn(send.uuid, txn.delivery_last_error)
        self.assertFalse(self.pending_jobs(), "the administrator's cancel stands")
        self.assertFalse(self.receiver.requests)
        self.assertFalse(self.sweep(txns), "a failed delivery is not swept again")
        message_id = txns[0].delivery_message_id
        txns[0].action_retry_delivery()
        self.run_jobs()
        self.assertEqual(txns[0].delivery_state, "sent")
        [call] = self.callbacks_of(txns[0])
        self.assertEqual(call["json"]["header"]["message_id"], message_id)

    def test_cancelled_retry_fails_the_delivery(self):
        dead = self.ask_for_a_dead_host(1)
        self.run_jobs(method="_dci_answer_queued")
        self.send_callbacks()
        txn = self.env["spp.dci.transaction"].search([("delivery_url", "=", dead)])
        self.assertEqual(txn.delivery_state, "retrying")
        [retry] = self.pending_jobs()
        self.assertEqual(retry.method_name, "_dci_deliver")
        retry.button_cancelled()
        self.assertEqual(self.sweep(txn), txn)
        self.assertEqual(txn.delivery_state, "failed")
        self.assertIn("cancelled in the Job Queue", txn.delivery_last_error)

    def test_callbacks_whose_job_is_gone_are_queued_again(self):
        txns = self.answered()
        message_ids = set(txns.mapped("delivery_message_id"))
        self.send_jobs().unlink()
        self.assertEqual(self.sweep(txns), txns)
        jobs = self.pending_jobs()
        self.assertEqual(jobs.mapped("method_name"), ["_dci_deliver", "_dci_deliver"])
        self.assertFalse(self.sweep(txns), "their new jobs are live")
        self.run_jobs()
        self.assertEqual(set(txns.mapped("delivery_state")), {"sent"})
        calls = [call for txn in txns for call in self.callbacks_of(txn)]
        self.assertEqual(len(calls), 2, "each sent once")
        self.assertEqual({c["json"]["header"]["message_id"] for c in calls}, message_ids)

    def test_recent_deliveries_wait_for_their_job(self):
        txns = self.answered(1)
        self.send_jobs().unlink()
        self.assertFalse(self.sweep(txns, older_than_minutes=60), "written within the hour")
        self.assertEqual(txns.delivery_state, "queued")
