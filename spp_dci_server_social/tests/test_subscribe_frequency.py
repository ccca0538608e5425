"""Subscription ``frequency``: the window is kept in UTC, notifications follow the schedule."""

from datetime import UTC, datetime, timedelta, timezone

from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.tests import tagged

from .subscribe_common import NEWNAME, SubscribeCase

PLUS5 = timezone(timedelta(hours=5))
MINUS3 = timezone(timedelta(hours=-3))


def naive(value):
    return value.astimezone(UTC).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestSubscriptionFrequency(SubscribeCase):
    def setUp(self):
        super().setUp()
        self.now = datetime.now(UTC).replace(microsecond=0)

    @staticmethod
    def frequency(start, end, cron):
        return {
            "start_time": format_timestamp(start),
            "end_time": format_timestamp(end),
            "frequency": cron,
        }

    def item(self, frequency, surname=NEWNAME, **kwargs):
        return self.subscribe_item(
            self.expression({"surname": {"$eq": surname}}), frequency=frequency, **kwargs
        )

    def test_offset_times_are_stored_in_utc(self):
        start, end = self.now - timedelta(hours=1), self.now + timedelta(days=30)
        cron = "0 0 * * * ?"
        [result] = self.subscribe(
            self.item(self.frequency(start.astimezone(PLUS5), end.astimezone(MINUS3), cron))
        )
        self.assertEqual(result["status"], "succ", result)
        [info] = result["subscriptions"]
        self.assertEqual(info["frequency"], self.frequency(start, end, cron))
        self.assertTrue(info["frequency"]["start_time"].endswith("Z"))
        subscription = self.env["spp.dci.subscription"].search([("code", "=", info["code"])])
        self.assertEqual(
            (subscription.frequency_start, subscription.frequency_end), (naive(start), naive(end))
        )
        # its window opened an hour ago (kept as 10:00 UTC for 10:00+05:00 it would open in 4)
        self.new_person("Nia")
        self.run_jobs(method="_dci_match_changes")
        self.assertEqual(len(subscription.notification_ids), 1)

    def test_notifications_follow_the_frequency(self):
        hour = (self.now + timedelta(hours=12)).hour
        cron = f"0 30 {hour} * * ? *"  # every day at hour:30:00 UTC, about 12 hours from now
        due = naive(self.now).replace(hour=hour, minute=30, second=0)
        if due <= naive(self.now):
            due += timedelta(days=1)
        end = self.now + timedelta(days=10)
        active, future = self.subscribed(
            self.item(self.frequency(self.now - timedelta(minutes=1), end, cron)),
            self.subscribe_item(
                self.expression({"surname": {"$in": [NEWNAME, "Nobody"]}}),
                frequency=self.frequency(self.now + timedelta(hours=2), end, cron),
            ),
        )
        self.assertLess(future.frequency_start, due)

        people = self.new_person("Oli") + self.new_person("Pam")
        people[0].write({"phone": "+15550100"})
        self.run_jobs(method="_dci_match_changes")
        self.assertFalse(future.notification_ids, "nothing before the window's start_time")
        notification = active.notification_ids
        self.assertEqual(len(notification), 1)
        self.assertEqual(sorted(notification.record_ids), sorted(people.ids))
        self.assertEqual(notification.send_after, due, "due at the end of the period")
        send = self.pending_jobs().filtered(lambda j: j.method_name == "_dci_send")
        self.assertEqual(send.eta, due)
        self.assertEqual(self.notifications(ignore_eta=False), [], "not sent before it is due")

        # committed later in the same period: the same notification; committed after the
        # period's fire time: the next period's (the match job gets the commit time)
        ryu = self.new_person("Ryu")
        people[1].write({"phone": "+15550101"})
        self.run_jobs(method="_dci_match_changes")
        self.env["spp.dci.subscription"]._dci_match_changes(
            [["res.partner", "REGISTER", [ryu.id]]], due + timedelta(minutes=1)
        )
        self.env.invalidate_all()
        periods = active.notification_ids.sorted("send_after")
        self.assertEqual(periods.mapped("send_after"), [due, due + timedelta(days=1)])
        self.assertEqual(sorted(periods[0].record_ids), sorted((people | ryu).ids))
        self.assertEqual(periods[1].record_ids, ryu.ids)
        self.assertEqual(future.notification_ids.mapped("send_after"), [due + timedelta(days=1)])

        # when each period is due (the job runner honours the eta): one notify per period
        notifies = [
            n
            for n in self.notifications()
            if n["json"]["header"]["meta"]["subscription_codes"] == [active.code]
        ]
        batches = sorted(
            sorted(
                e["data"]["reg_records"]["name"]["given_name"]
                for e in n["json"]["message"]["notify_event"]
            )
            for n in notifies
        )
        self.assertEqual(batches, [["Oli", "Pam", "Ryu"], ["Ryu"]])

    def test_invalid_frequencies_are_refused(self):
        now, day = self.now, timedelta(days=1)
        hourly = "0 0 * * * ?"
        cases = {
            "not-cron": (self.frequency(now, now + day, "every day"), "expected 5"),
            "quartz-L": (self.frequency(now, now + day, "0 0 0 L * ?"), "not supported"),
            "order": (self.frequency(now + 2 * day, now + day, hourly), "must be after"),
            "past": (self.frequency(now - 2 * day, now - day, hourly), "in the past"),
            "never": (
                self.frequency(now, now + timedelta(hours=1), f"0 0 0 1 1 ? {now.year + 3}"),
                "does not fire",
            ),
            "naive": (
                {
                    "start_time": "2030-01-01T10:00:00",
                    "end_time": "2030-02-01T10:00:00Z",
                    "frequency": hourly,
                },
                "time zone",
            ),
        }
        results = self.subscribe(
            *(
                self.item(frequency, surname=f"Freq-{name}", reference_id=name)
                for name, (frequency, _text) in cases.items()
            )
        )
        for result in results:
            with self.subTest(case=result["reference_id"]):
                self.assertEqual(result["status"], "rjct", result)
                self.assertEqual(result["status_reason_code"], "rjct.notify_details.invalid")
                self.assertIn(cases[result["reference_id"]][1], result["status_reason_message"])
        self.assertFalse(
            self.env["spp.dci.subscription"].search([("reference_id", "in", list(cases))])
        )
