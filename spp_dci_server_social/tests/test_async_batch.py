"""Asynchronous requests are answered in batches: one batch job for many requests, none
written by the ACK when one is waiting, none lost when a batch is started or rolled back."""

from unittest.mock import patch

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.spp_dci_server.services import async_batch
from odoo.tests import tagged

from .common import AsyncCase

FAILING = {"type": "UIN", "value": "ZB-UIN-FAILS"}


@tagged("post_install", "-at_install")
class TestAsyncBatch(AsyncCase):
    def test_waiting_batch_job_answers_every_new_request(self):
        first = self.ask()
        [job] = self.batch_jobs()
        self.assertEqual(job.channel, "root.dci")
        others = self.ask() | self.ask()
        self.assertEqual(self.batch_jobs(), job, "the waiting batch job takes the new requests")
        self.run_jobs()
        self.assertEqual(job.state, "done")
        self.assertEqual(job.result, "3 answered, callbacks queued")
        [send] = self.send_jobs(states=("done",))
        self.assertEqual((send.channel, send.result), ("root.dci", "3 sent"))
        for txn in first | others:
            self.assertEqual(
                (txn.state, txn.delivery_state, txn.delivery_attempts), ("done", "sent", 1)
            )
            self.assertEqual(len(self.callbacks_of(txn)), 1)

    def test_batch_job_of_an_ack_waits_a_moment_a_follower_does_not(self):
        """The ACK's new batch job runs async_batch_delay seconds later (the requests of
        that moment join it); a full batch's follower runs at once; 0 turns the wait off."""
        self.ask()
        [job] = self.batch_jobs()
        wait = (job.eta - job.date_created).total_seconds()
        self.assertAlmostEqual(wait, 1, delta=1)
        self.assertGreater(job.eta, job.date_created)
        self.env["ir.config_parameter"].set_param("spp_dci_server.async_batch_size", 1)
        self.ask()
        self.run_jobs(rounds=1)
        [follower] = self.batch_jobs()
        self.assertFalse(follower.eta, "requests wait already: the follower runs at once")
        self.run_jobs()
        params = self.env["ir.config_parameter"]
        params.set_param("spp_dci_server.async_batch_delay", 0)
        self.ask()
        [job] = self.batch_jobs()
        self.assertFalse(job.eta)

    def test_request_arriving_while_the_batch_job_runs_gets_answered(self):
        first = self.ask()
        [job] = self.batch_jobs()
        # the runner starts it (what /queue_job/runjob does before performing it): it may
        # claim the received rows before the next request's row is committed
        started = Job.load(self.env, job.uuid)
        started.set_started()
        started.store()
        second = self.ask()
        [follower] = self.batch_jobs()
        self.assertNotEqual(follower, job, "a started batch job absorbs nothing: a new one")
        self.assertEqual(self.perform(started), "2 answered, callbacks queued")
        self.run_jobs()
        self.assertEqual(follower.state, "done")
        self.assertEqual(follower.result, "nothing to answer")
        for txn in first | second:
            self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))
            self.assertEqual(len(self.callbacks_of(txn)), 1)

    def test_batch_rolled_back_midway_loses_no_request(self):
        """A batch that stops midway (here a lock it cannot get; a killed worker alike)
        rolls back: the requests it had answered are received again, claimed again by
        the next run, and each gets one callback."""
        answered_first = self.ask(
            self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-404"})
        )
        # region_code reads res_country_state, which the other transaction locks
        blocked = self.ask(
            self.search_item("expression", self.expression({"address.region_code": {"$eq": "CA"}}))
        )
        job = self.stored_job("_dci_answer_queued")
        self.lock_timeout("200ms")
        with self.other_transaction() as other:
            other.execute("LOCK TABLE res_country_state IN ACCESS EXCLUSIVE MODE NOWAIT")
            with self.assertRaises(RetryableJobError):
                self.perform(job)
            for txn in answered_first | blocked:
                self.assertEqual((txn.state, txn.delivery_state), ("received", "none"))
            self.assertEqual(self.receiver.requests, [], "no callback of a rolled-back batch")
        self.assertEqual(self.perform(job), "2 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["2 sent"])
        for txn in answered_first | blocked:
            self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))
            self.assertEqual(len(self.callbacks_of(txn)), 1)

    def test_failed_answer_is_rolled_back_alone(self):
        """An answer that fails in the database (here after a write of its own) is rolled
        back alone: the batch goes on, the others are answered, the failed one gets its
        refusal callback, and nothing it wrote remains."""
        txns = self.ask() | self.ask(self.search_item("idtype-value", FAILING)) | self.ask()
        job = self.stored_job("_dci_answer_queued")
        registry_class = type(
            self.env[self.env["spp.dci.registry"]._dci_implementation_name("social")]
        )
        lookup = registry_class._dci_identifier_records
        bob = self.bob

        def half_written_then_failed(registry, spec, id_key, value):
            if value == FAILING["value"]:
                registry.env.cr.execute(
                    "UPDATE res_partner SET name = 'half written' WHERE id = %s", [bob.id]
                )
                registry.env.cr.execute("SELECT 1 / 0")
            return lookup(registry, spec, id_key, value)

        with patch.object(registry_class, "_dci_identifier_records", half_written_then_failed):
            self.assertEqual(self.perform(job), "3 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["3 sent"])
        self.assertEqual(txns.mapped("state"), ["done", "failed", "done"])
        self.assertEqual(txns[1].status_reason_code, "err.service.unavailable")
        self.assertIn("DivisionByZero", txns[1].error_detail)
        self.assertNotEqual(bob.name, "half written")
        for txn in txns:
            self.assertEqual(txn.delivery_state, "sent")
            [header] = [
                r["json"]["header"]
                for r in self.receiver.requests
                if r["json"]["header"]["message_id"] == txn.delivery_message_id
            ]
            self.assertEqual(header["status"], "rjct" if txn == txns[1] else "succ")

    def test_ack_knowing_the_waiting_job_looks_nothing_up(self):
        """An ACK of a process that knows the waiting batch job starts later needs no
        look-up: that job claims its row. Knowledge of a job gone meanwhile (deleted here)
        lasts until that start is near; then the ACKs look again, and queue a job."""
        first = self.ask()
        [job] = self.batch_jobs()
        dbname = self.env.cr.dbname
        self.addCleanup(async_batch.forget_start, dbname)
        async_batch._known_starts[dbname] = async_batch.start_after(60)
        self.env.cr.execute("DELETE FROM queue_job WHERE id = %s", [job.id])
        second = self.ask()
        self.assertFalse(self.batch_jobs(), "the ACK relied on the job it knew of")
        async_batch._known_starts[dbname] = async_batch.start_after(async_batch.START_MARGIN / 2)
        third = self.ask()
        [job] = self.batch_jobs()
        self.run_jobs()
        self.assertNotIn(dbname, async_batch._known_starts, "a batch job that starts is forgotten")
        self.assertEqual(job.result, "3 answered, callbacks queued")
        for txn in first | second | third:
            self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))

    def test_request_stranded_without_batch_job_is_answered(self):
        """The server stopped between the ACK's commit and its batch job look-up."""
        txn = self.ask()
        self.batch_jobs().unlink()
        self.assertTrue(self.env["spp.dci.transaction"]._dci_answer_stranded(), "a job queued")
        self.assertFalse(self.env["spp.dci.transaction"]._dci_answer_stranded(), "one job")
        self.run_jobs()
        self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))
        self.assertEqual(len(self.callbacks_of(txn)), 1)

    def test_batch_size_and_the_next_batch_job(self):
        self.env["ir.config_parameter"].set_param("spp_dci_server.async_batch_size", 2)
        txns = self.ask() | self.ask() | self.ask()
        [job] = self.batch_jobs()
        self.run_job(job)
        self.assertEqual(job.result, "2 answered, callbacks queued, next batch queued")
        [follower] = self.batch_jobs()
        self.run_job(follower)
        self.assertEqual(follower.result, "1 answered, callbacks queued")
        self.assertFalse(self.batch_jobs())
        self.assertEqual(self.send_callbacks(), ["2 sent", "1 sent"])
        self.assertEqual(set(txns.mapped("delivery_state")), {"sent"})

    def test_unreachable_callback_host_leaves_the_batch_to_delivery_jobs(self):
        dead = self.ask_for_a_dead_host(2)
        [job] = self.batch_jobs()
        self.run_job(job)
        self.assertEqual(job.result, "2 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["1 retrying, 1 deferred"])
        deliveries = self.pending_jobs()
        self.assertEqual(deliveries.mapped("method_name"), ["_dci_deliver", "_dci_deliver"])
        txns = self.env["spp.dci.transaction"].search([("delivery_url", "=", dead)])
        self.assertEqual(
            sorted(txns.mapped("delivery_state")), ["queued", "retrying"], "tried once, at most"
        )
        self.assertEqual(sorted(txns.mapped("delivery_attempts")), [0, 1])

    def test_a_batch_sends_its_callbacks_together(self):
        self.receiver.delay = 0.5  # a distant receiver: each callback waits on the network
        txns = self.ask() | self.ask() | self.ask() | self.ask()
        [job] = self.batch_jobs()
        self.run_job(job)
        self.assertEqual(job.result, "4 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["4 sent"])
        self.assertEqual(set(txns.mapped("delivery_state")), {"sent"})
        calls = [call for txn in txns for call in self.callbacks_of(txn)]
        self.assertEqual(len(calls), 4)
        first, *others = sorted(calls, key=lambda call: call["received_at"])
        # the host's first callback goes alone (does the host answer at all?), then the rest
        self.assertLessEqual(first["answered_at"], min(c["received_at"] for c in others))
        self.assertGreaterEqual(self.receiver.max_in_flight, 2, "the other three together")

    def test_a_dead_host_does_not_hold_back_the_live_one(self):
        dead = self.ask_for_a_dead_host(2)
        live = self.ask() | self.ask()
        [job] = self.batch_jobs()
        self.run_job(job)
        self.assertEqual(job.result, "4 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["2 sent, 1 retrying, 1 deferred"])
        self.assertEqual(live.mapped("delivery_state"), ["sent", "sent"])
        for txn in live:
            self.assertEqual(len(self.callbacks_of(txn)), 1)
        txns = self.env["spp.dci.transaction"].search([("delivery_url", "=", dead)])
        self.assertEqual(sorted(txns.mapped("delivery_state")), ["queued", "retrying"])

    def test_callback_concurrency_1_sends_one_after_the_other(self):
        self.env["ir.config_parameter"].set_param("spp_dci_server.callback_concurrency", 1)
        self.receiver.delay = 0.2
        self.ask() | self.ask() | self.ask()
        [job] = self.batch_jobs()
        self.run_job(job)
        self.assertEqual(job.result, "3 answered, callbacks queued")
        self.assertEqual(self.send_callbacks(), ["3 sent"])
        self.assertEqual(self.receiver.max_in_flight, 1)

    def test_send_job_run_again_after_a_crash_sends_the_same_messages(self):
        """A worker killed while the callbacks go out (here: after both went out, before
        their outcomes are written): the answers were committed before, so the send job,
        run again, delivers the same stored messages again (same message_id), never a
        second answer."""
        txns = self.ask() | self.ask()
        [job] = self.batch_jobs()
        self.run_job(job)
        message_ids = {txn.id: txn.delivery_message_id for txn in txns}
        send = Job.load(self.env, self.send_jobs().uuid)
        model_class = type(self.env["spp.dci.transaction"])
        with (
            patch.object(model_class, "_dci_record_attempt", side_effect=RuntimeError("killed")),
            self.assertRaises(RuntimeError),
        ):
            self.perform(send)
        self.assertEqual(len(self.receiver.requests), 2, "both went out before the crash")
        self.assertEqual(set(txns.mapped("delivery_state")), {"queued"})
        self.assertEqual(self.perform(send), "2 sent")
        for txn in txns:
            calls = self.callbacks_of(txn)
            self.assertEqual(len(calls), 2)
            self.assertEqual(
                {c["json"]["header"]["message_id"] for c in calls}, {message_ids[txn.id]}
            )
            self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))
