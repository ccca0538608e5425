"""EventFrequency cron expressions: forms, fire times, rejections; UTC conversion."""

from datetime import UTC, datetime, timedelta, timezone

from odoo.tests import BaseCase, tagged

from ..dci.frequency import CronError, parse_cron, to_utc


def fires(expression, start, count=3):
    schedule, moment, found = parse_cron(expression), start, []
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment)
    return found


@tagged("post_install", "-at_install")
class TestFrequency(BaseCase):
    def test_the_spec_example(self):
        # "At 00:00:00am, on the 5th and 15th day, every month"
        self.assertEqual(
            fires("0 0 0 5,15 * ? *", datetime(2024, 1, 10, 12), 4),
            [
                datetime(2024, 1, 15),
                datetime(2024, 2, 5),
                datetime(2024, 2, 15),
                datetime(2024, 3, 5),
            ],
        )

    def test_forms(self):
        start = datetime(2024, 1, 5, 10, 7, 30)  # a Friday
        cases = {
            # Unix: minute hour day month weekday (0 and 7 = Sunday)
            "*/15 * * * *": [datetime(2024, 1, 5, 10, 15), datetime(2024, 1, 5, 10, 30)],
            "0 9 * * MON-FRI": [datetime(2024, 1, 8, 9), datetime(2024, 1, 9, 9)],
            "0 0 * * 0": [datetime(2024, 1, 7), datetime(2024, 1, 14)],
            "0 0 * * 7": [datetime(2024, 1, 7), datetime(2024, 1, 14)],
            # Quartz: second first, weekday 1 = Sunday, optional year
            "30 0 12 ? * 2": [datetime(2024, 1, 8, 12, 0, 30), datetime(2024, 1, 15, 12, 0, 30)],
            "0 0 12 ? * MON *": [datetime(2024, 1, 8, 12), datetime(2024, 1, 15, 12)],
            "0 0 0 1 JAN-MAR/2 ?": [datetime(2024, 3, 1), datetime(2025, 1, 1)],
            "0 0 0 29 2 ?": [datetime(2024, 2, 29), datetime(2028, 2, 29)],
            # both day fields restricted: either matches (Unix cron)
            "0 0 13 * FRI": [datetime(2024, 1, 12), datetime(2024, 1, 13)],
        }
        for expression, expected in cases.items():
            with self.subTest(expression=expression):
                self.assertEqual(fires(expression, start, 2), expected)

    def test_strictly_after_and_in_utc(self):
        schedule = parse_cron("0 0 * * *")
        self.assertEqual(schedule.next_after(datetime(2024, 1, 1)), datetime(2024, 1, 2))
        plus5 = timezone(timedelta(hours=5))
        # 2024-01-01T03:00+05:00 is 2023-12-31T22:00Z: the next midnight UTC is 2024-01-01
        self.assertEqual(
            schedule.next_after(datetime(2024, 1, 1, 3, tzinfo=plus5)), datetime(2024, 1, 1)
        )

    def test_no_next_fire_time(self):
        self.assertIsNone(parse_cron("0 0 0 1 1 ? 2020").next_after(datetime(2024, 1, 1)))
        self.assertIsNone(parse_cron("0 0 0 31 2 ?").next_after(datetime(2024, 1, 1)))

    def test_rejections(self):
        for expression, text in (
            ("every day", "expected 5"),
            ("1 2 3", "expected 5"),
            ("0 0 25 * * ?", "hour"),
            ("0 0 0 L * ?", "L, W and # are not supported"),
            ("0 0 0 ? * MON#2", "day of week"),
            ("0 0 0 15W * ?", "day of month"),
            ("0 0 0 * FOO ?", "month"),
            ("0 0 0 * * ? 1800", "year"),
            ("*/0 * * * *", "step"),
            ("5-1 * * * *", "minute"),
        ):
            with self.subTest(expression=expression), self.assertRaises(CronError) as caught:
                parse_cron(expression)
            self.assertIn(text, str(caught.exception))

    def test_to_utc(self):
        self.assertEqual(
            to_utc(datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=5)))),
            datetime(2024, 1, 1, 5),
        )
        self.assertEqual(to_utc(datetime(2024, 1, 1, 10, tzinfo=UTC)), datetime(2024, 1, 1, 10))
        self.assertEqual(to_utc(datetime(2024, 1, 1, 10)), datetime(2024, 1, 1, 10), "naive: UTC")
