"""The DCI overview and its report: the counts of the transactions themselves."""

import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestOverview(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # only this test's rows count: earlier ones (other tests, demo data) are left out
        cls.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM spp_dci_transaction")
        cls.before = cls.env.cr.fetchone()[0]
        Sender = cls.env["spp.dci.sender"]
        cls.mis = Sender.create({"name": "Overview MIS", "client_id": "overview-mis"})
        cls.other = Sender.create({"name": "Overview other", "client_id": "overview-other"})
        cls.today = fields.Datetime.now()
        cls.yesterday = cls.today - timedelta(days=1)
        cls.old = cls.today - timedelta(days=10)
        rows = [
            # (sender, state, delivery state, when, action)
            (cls.mis, "done", "none", cls.today, "search"),
            (cls.mis, "done", "none", cls.today, "search"),
            (cls.mis, "rejected", "none", cls.today, "search"),
            (cls.mis, "done", "queued", cls.today, "search"),
            (cls.other, "failed", "none", cls.today, "search"),
            (cls.other, "done", "failed", cls.yesterday, "search"),
            (cls.other, "rejected", "none", cls.yesterday, "search"),
            (cls.other, "done", "retrying", cls.yesterday, "subscribe"),
            (cls.mis, "done", "none", cls.old, "search"),
        ]
        cls.txns = cls.env["spp.dci.transaction"]
        for sender, state, delivery, when, action in rows:
            txn = cls.env["spp.dci.transaction"].create(
                {
                    "action": action,
                    "mode": "async" if delivery != "none" else "sync",
                    "state": state,
                    "delivery_state": delivery,
                    "correlation_id": str(uuid.uuid4()),
                    "sender_id": sender.id,
                    "item_count": 2,
                    "duration_ms": 10,
                }
            )
            txn.flush_recordset()
            cls.env.cr.execute(
                SQL("UPDATE spp_dci_transaction SET create_date = %s WHERE id = %s", when, txn.id)
            )
            cls.txns |= txn
        cls.env.invalidate_all()

    def report(self, groupby, domain=()):
        return self.env["spp.dci.request.report"]._read_group(
            [("id", ">", self.before), *domain], groupby, ["__count"]
        )

    def test_report_per_day_sender_and_outcome(self):
        groups = self.report(["day:day", "sender_id", "outcome"], [("action", "=", "search")])
        counts = {(str(day), sender.name, outcome): n for day, sender, outcome, n in groups}
        today, yesterday, old = (str(d.date()) for d in (self.today, self.yesterday, self.old))
        self.assertEqual(
            counts,
            {
                (today, "Overview MIS", "served"): 3,
                (today, "Overview MIS", "refused"): 1,
                (today, "Overview other", "failed"): 1,
                (yesterday, "Overview other", "served"): 1,
                (yesterday, "Overview other", "refused"): 1,
                (old, "Overview MIS", "served"): 1,
            },
        )

    def test_report_callbacks_and_measures(self):
        callbacks = dict(self.report(["callback_state"]))
        self.assertEqual(callbacks, {"none": 6, "pending": 2, "failed": 1})
        [(items, duration)] = self.env["spp.dci.request.report"]._read_group(
            [("id", ">", self.before)], [], ["item_count:sum", "duration_ms:avg"]
        )
        self.assertEqual((items, duration), (18, 10))

    def test_overview_counts(self):
        overview = self.env.ref("spp_dci_server.dci_overview")
        # everything of today and this week, whatever else is in the database, plus ours
        Report = self.env["spp.dci.request.report"]
        since_today = overview._dci_since(0)

        def count(outcome, since):
            return Report.search_count([("outcome", "=", outcome), ("received_at", ">=", since)])

        self.assertEqual(overview.served_today, count("served", since_today))
        self.assertEqual(overview.refused_today, count("refused", since_today))
        self.assertGreaterEqual(overview.served_today, 3)
        self.assertGreaterEqual(overview.served_week - overview.served_today, 2)
        self.assertGreaterEqual(overview.callbacks_pending, 2)
        self.assertGreaterEqual(overview.callbacks_failed, 1)
        # one more refusal today shows at once (computed on read)
        before = overview.refused_today
        self.txns[0].sudo().write({"state": "rejected"})
        self.env.flush_all()
        overview.invalidate_recordset()
        self.assertEqual(overview.refused_today, before + 1)
        self.assertIn(self.txns[0].id, overview.request_ids.ids)

    def test_overview_is_first_in_the_dci_app(self):
        root = self.env.ref("spp_dci.menu_dci_root")
        user = self.env["res.users"].create(
            {
                "name": "Programme officer",
                "login": "overview-programme-officer",
                "group_ids": [(6, 0, [self.env.ref("spp_dci.group_dci_user").id])],
            }
        )
        menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
        first = menus[menus[root.id]["children"][0]]
        self.assertEqual(first["xmlid"], "spp_dci_server.menu_dci_overview")
        # the app opens it; the action gives the officer the overview form
        self.assertEqual(menus[root.id]["actionID"], first["actionID"])
        action = self.env["ir.actions.server"].browse(first["actionID"]).with_user(user).run()
        self.assertEqual((action["res_model"], action["view_mode"]), ("spp.dci.overview", "form"))
        overview = self.env["spp.dci.overview"].with_user(user).browse(action["res_id"])
        self.assertGreaterEqual(overview.served_week, 5)
