"""``EventFrequency`` of a subscription: its window in UTC and its cron schedule.

The spec (``SubscriptionInfo.frequency``) gives ``start_time``/``end_time``, "the
range where the notification frequency is applicable", and ``frequency``, "a cron
expression", with the Quartz example ``0 0 0 5,15 * ? *`` (at 00:00:00 on the 5th
and 15th of every month). Accepted forms, evaluated in UTC:

- 7 fields (Quartz): ``second minute hour day-of-month month day-of-week year``;
- 6 fields (Quartz without year): ``second minute hour day-of-month month day-of-week``;
- 5 fields (Unix): ``minute hour day-of-month month day-of-week`` (second 0).

Each field takes ``*``, ``?`` (day fields), numbers, ranges ``a-b``, steps ``*/n``,
``a/n``, ``a-b/n`` and lists ``a,b``; months ``JAN``-``DEC`` and days ``SUN``-``SAT``
by name. Day-of-week numbers follow the form: Quartz 1-7 (1 = Sunday), Unix 0-7
(0 and 7 = Sunday). When both day fields are restricted, a day matching either
fires (as Unix cron does). Quartz's ``L``, ``W`` and ``#`` are not supported.
"""

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: How far ahead the next fire time is looked for (a schedule that fires less often
#: than this, or never again, has no next fire time).
HORIZON_DAYS = 366 * 5
YEARS = (1970, 2199)


class CronError(ValueError):
    """An expression this module cannot evaluate; the message says why."""


def to_utc(value: datetime) -> datetime:
    """``value`` as naive UTC, the form Odoo stores; a naive ``value`` is taken as UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; :meth:`next_after` gives its fire times (naive UTC)."""

    seconds: frozenset
    minutes: frozenset
    hours: frozenset
    days: frozenset | None  # day of month; None: unrestricted
    months: frozenset
    weekdays: frozenset | None  # 0 = Monday (date.weekday()); None: unrestricted
    years: frozenset | None

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.days is None and self.weekdays is None:
            return True
        return (self.days is not None and day.day in self.days) or (
            self.weekdays is not None and day.weekday() in self.weekdays
        )

    def _first_time(self, earliest: time):
        """The first fire time of a matching day at or after ``earliest``, or None."""
        for hour in sorted(h for h in self.hours if h >= earliest.hour):
            same_hour = hour == earliest.hour
            for minute in sorted(self.minutes):
                if same_hour and minute < earliest.minute:
                    continue
                same_minute = same_hour and minute == earliest.minute
                for second in sorted(self.seconds):
                    if same_minute and second < earliest.second:
                        continue
                    return time(hour, minute, second)
        return None

    def next_after(self, moment: datetime):
        """The first fire time strictly after ``moment`` (naive UTC), or None."""
        moment = to_utc(moment).replace(microsecond=0) + timedelta(seconds=1)
        day, earliest = moment.date(), moment.time()
        for _ in range(HORIZON_DAYS):
            if self.years is not None and day.year > max(self.years):
                return None
            if self._day_matches(day):
                found = self._first_time(earliest)
                if found is not None:
                    return datetime.combine(day, found)
            day += timedelta(days=1)
            earliest = time(0, 0, 0)
        return None


def _number(text):
    if not text.isdigit():
        raise CronError(f"{text!r} is not a number")
    return int(text)


def _field(text, label, low, high, names=(), name_offset=0, any_ok=("*",)):
    """The set of values of one field, or None when unrestricted (``*``, or ``?``)."""
    if text in any_ok:
        return None
    try:
        return _values(text, low, high, names, name_offset)
    except CronError as err:
        raise CronError(
            f"{label}: {text!r} is not a cron field within {low}-{high} "
            f"(numbers, names, * ? - / and , only; L, W and # are not supported): {err}"
        ) from None


def _values(text, low, high, names, name_offset):
    if names:  # JAN -> 1, MON -> 2 (Quartz) ...: whole words only
        text = re.sub(
            r"[A-Za-z]{3}",
            lambda m: (
                str(names.index(m[0].upper()) + name_offset) if m[0].upper() in names else m[0]
            ),
            text,
        )
    values = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text) if step_text else 1
        if step < 1:
            raise CronError("a step must be at least 1")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first), _number(last)
        else:
            start = _number(base)
            end = high if step_text else start
        if not (low <= start <= end <= high):
            raise CronError(f"{part!r} is out of range")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@functools.lru_cache(maxsize=256)
def parse_cron(expression: str) -> CronSchedule:
    """Parse a 5, 6 or 7 field cron expression; raises :class:`CronError`."""
    parts = str(expression).split()
    if len(parts) == 5:
        parts = ["0", *parts]
        quartz = False
    elif len(parts) in (6, 7):
        quartz = True
    else:
        raise CronError(
            f"expected 5 (Unix), 6 or 7 (Quartz) fields, got {len(parts)}: {expression!r}"
        )
    second, minute, hour, dom, month, dow = parts[:6]
    year = parts[6] if len(parts) == 7 else "*"
    days = _field(dom, "day of month", 1, 31, any_ok=("*", "?"))
    if quartz:  # 1 = Sunday ... 7 = Saturday
        raw_weekdays = _field(dow, "day of week", 1, 7, DAYS, 1, any_ok=("*", "?"))
        weekdays = raw_weekdays and frozenset((d - 2) % 7 for d in raw_weekdays)
    else:  # 0 and 7 = Sunday
        raw_weekdays = _field(dow, "day of week", 0, 7, DAYS, 0, any_ok=("*", "?"))
        weekdays = raw_weekdays and frozenset((d - 1) % 7 for d in raw_weekdays)
    months = _field(month, "month", 1, 12, MONTHS, 1)
    return CronSchedule(
        seconds=_field(second, "second", 0, 59) or frozenset(range(60)),
        minutes=_field(minute, "minute", 0, 59) or frozenset(range(60)),
        hours=_field(hour, "hour", 0, 23) or frozenset(range(24)),
        days=days,
        months=months or frozenset(range(1, 13)),
        weekdays=weekdays,
        years=_field(year, "year", *YEARS, any_ok=("*", "?")),
    )
