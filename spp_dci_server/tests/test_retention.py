"""Retention: payloads of old transactions, callbacks and notifications are purged in
batches, oldest first, until none is left; recent ones are kept."""

import uuid

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from ..services import retention

PAYLOAD = {"header": {"message_id": "m"}, "message": {"personal": "data"}}


@tagged("post_install", "-at_install")
class TestRetention(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender = cls.env["spp.dci.sender"].create(
            {"name": "Retention test", "client_id": "retention-test", "rate_limit": 0}
        )
        cls.subscription = cls.env["spp.dci.subscription"].create(
            {
                "code": "retention-sub",
                "sender_id": cls.sender.id,
                "registry_type": "social",
                "res_model": "res.partner",
                "reg_event_type": "REGISTER",
                "record_type": "Person",
            }
        )
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param(retention.BATCH_SIZE, 3)
        params.set_param(retention.TRANSACTION_DAYS, 30)
        params.set_param(retention.INBOX_DAYS, 20)
        params.set_param(retention.NOTIFICATION_DAYS, 10)

    # --- fixtures: rows aged by writing their create_date --------------------------------

    def age(self, records, days):
        records.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET create_date = (now() AT TIME ZONE 'UTC') - make_interval(days => %s)"
                " WHERE id IN %s",
                SQL.identifier(records._table),
                days,
                tuple(records.ids),
            )
        )
        records.invalidate_recordset(["create_date"])
        return records

    def transaction(self, days, **values):
        record = self.env["spp.dci.transaction"].create(
            {
                "action": "search",
                "mode": "async",
                "state": "done",
                "correlation_id": str(uuid.uuid4()),
                "sender_id": self.sender.id,
                "request_payload": PAYLOAD,
                "response_payload": PAYLOAD,
                "delivery_payload": PAYLOAD,
                "delivery_state": "sent",
                **values,
            }
        )
        return self.age(record, days)

    def inbox(self, days, **values):
        record = self.env["spp.dci.inbox"].create(
            {
                "sender_id": self.sender.id,
                "action": "on-search",
                "message_id": str(uuid.uuid4()),
                "payload": PAYLOAD,
                "state": "processed",
                **values,
            }
        )
        return self.age(record, days)

    def notification(self, days, **values):
        record = self.env["spp.dci.notification"].create(
            {
                "subscription_id": self.subscription.id,
                "event_type": "REGISTER",
                "res_model": "res.partner",
                "state": "built",
                "delivery_payload": PAYLOAD,
                "delivery_state": "sent",
                **values,
            }
        )
        return self.age(record, days)

    # --- checks -------------------------------------------------------------------------

    def held(self, records, fields):
        """The records that still hold one of ``fields`` (read from the database)."""
        records.invalidate_recordset()
        return records.filtered(lambda r: any(r.sudo()[f] for f in fields))

    def assertPurgedInBatches(self, purge, old, recent, fields):
        """``old`` (oldest first, more than one batch) go 3 at a time; ``recent`` stay."""
        self.assertGreater(len(old), 3)
        done, remaining = purge()
        self.assertEqual((done, remaining), (3, True))
        self.assertEqual(self.held(old, fields), old[3:], "the three oldest went first")
        calls = 1
        while remaining:
            done, remaining = purge()
            calls += 1
            self.assertLessEqual(calls, 10, "the purge must come to an end")
        self.assertEqual(calls, -(-len(old) // 3) + (len(old) % 3 == 0))
        self.assertFalse(self.held(old, fields), "every old payload was dropped")
        self.assertEqual(self.held(recent, fields), recent, "recent payloads are kept")
        self.assertEqual(purge(), (0, False))

    # --- tests --------------------------------------------------------------------------

    def test_transactions(self):
        Transaction = self.env["spp.dci.transaction"]
        # created newest first, so that "oldest first" is by date, not by id
        old = Transaction.browse()
        for days in (40, 45, 50, 55, 60, 65, 70):
            old = self.transaction(days) | old
        recent = self.transaction(5) | self.transaction(29)
        # a callback still being delivered keeps what it delivers
        retrying = self.transaction(90, delivery_state="retrying")
        fields = ("request_payload", "response_payload", "delivery_payload")
        self.assertPurgedInBatches(Transaction._gc_old_transactions, old, recent | retrying, fields)
        self.assertEqual(old.mapped("state"), ["done"] * 7, "the rows themselves stay")

    def test_inbox(self):
        Inbox = self.env["spp.dci.inbox"]
        old = Inbox.browse()
        for days in (21, 22, 30, 31, 400):
            old = self.inbox(days, state="received") | old
        recent = self.inbox(1) | self.inbox(19)
        self.assertPurgedInBatches(Inbox._gc_old_payloads, old, recent, ("payload",))
        # a callback without its payload cannot be processed again; its job says why
        with self.assertRaisesRegex(Exception, "dropped after the retention period"):
            old[0].action_reprocess()
        old[0]._dci_dispatch()
        self.assertEqual(old[0].state, "failed")
        self.assertIn("retention period", old[0].error)

    def test_notifications(self):
        Notification = self.env["spp.dci.notification"]
        old = Notification.browse()
        for days in (11, 12, 13, 14):
            old = self.notification(days) | old
        recent = self.notification(2) | self.notification(60, delivery_state="queued")
        self.assertPurgedInBatches(
            Notification._gc_old_payloads, old, recent, ("delivery_payload",)
        )

    def test_periods_fall_back_and_zero_keeps_everything(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(retention.INBOX_DAYS, False)
        params.set_param(retention.TRANSACTION_DAYS, 100)
        kept, purged = self.inbox(99), self.inbox(101)
        self.env["spp.dci.inbox"]._gc_old_payloads()
        self.assertEqual(self.held(kept | purged, ("payload",)), kept)
        params.set_param(retention.TRANSACTION_DAYS, 0)
        old = self.transaction(1000)
        self.assertEqual(self.env["spp.dci.transaction"]._gc_old_transactions(), (0, False))
        self.assertTrue(self.held(old, ("request_payload",)))

    def test_purge_reads_a_partial_index(self):
        """Each batch is found through the index of the rows still holding a payload."""
        for model in ("spp.dci.transaction", "spp.dci.inbox", "spp.dci.notification"):
            table = self.env[model]._table
            self.env.cr.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname LIKE %s",
                (table, "%payload_retention%"),
            )
            (definition,) = self.env.cr.fetchone()
            self.assertIn("(create_date, id) WHERE", definition, model)
            self.assertIn("IS NOT NULL", definition, model)
