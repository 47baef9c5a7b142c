"""Cron schedules: when a scheduled job is due, in UTC.

Five fields, ``minute hour day-of-month month day-of-week``, as in crontab(5); or six, with
seconds first. A field is ``*``, a number, a range ``a-b``, any of these with a step (``*/5``,
``10-40/10``, ``7/15`` meaning from 7 to the end), or a comma-separated list of them. Day of week
runs 0 to 7, both Sunday. As in cron, when both day fields are restricted, a day matching either
is due.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.shared.errors import InvalidValueError

__all__ = ("CronSchedule",)

_FIELDS = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_SEARCH_YEARS = 5
"""How far ahead a schedule is searched for its next tick (``0 0 30 2 *`` has none)."""


def _number(raw: str, name: str, low: int, high: int) -> int:
    if not raw.isdigit():
        raise InvalidValueError(f"Cron {name} {raw!r} is not a number.", field="cron")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidValueError(f"Cron {name} {value} is not within {low}-{high}.", field="cron")
    return value


def _field(raw: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in raw.split(","):
        span, slash, step_raw = part.partition("/")
        step = _number(step_raw, f"{name} step", 1, high - low + 1) if slash else 1
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _number(first, name, low, high), _number(last, name, low, high)
            if start > end:
                raise InvalidValueError(f"Cron {name} range {span!r} runs backwards.", field="cron")
        else:
            start = _number(span, name, low, high)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 is Monday, as ``datetime.weekday()`` counts."""
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> "CronSchedule":
        parts = expression.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        if len(parts) != 6:
            raise InvalidValueError(
                f"A cron schedule has 5 or 6 fields, not {len(parts)}: {expression!r}.",
                field="cron",
            )
        sets = [_field(raw, *spec) for raw, spec in zip(parts, _FIELDS, strict=True)]
        # cron counts Sunday as 0 or 7; datetime.weekday() counts Monday as 0.
        weekdays = frozenset((day - 1) % 7 for day in sets[5])
        return cls(
            expression=expression,
            seconds=sets[0],
            minutes=sets[1],
            hours=sets[2],
            days=sets[3],
            months=sets[4],
            weekdays=weekdays,
            any_day=parts[3].startswith("*"),
            any_weekday=parts[5].startswith("*"),
        )

    def _day_matches(self, at: datetime) -> bool:
        in_month = at.day in self.days
        in_week = at.weekday() in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: datetime) -> datetime:
        """The first tick strictly after ``after`` (an aware datetime), in its time zone."""
        at = after.replace(microsecond=0) + timedelta(seconds=1)
        limit = after.year + _SEARCH_YEARS
        while at.year <= limit:
            if at.month not in self.months:
                at = (at.replace(day=1) + timedelta(days=32)).replace(
                    day=1, hour=0, minute=0, second=0
                )
            elif not self._day_matches(at):
                at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif at.hour not in self.hours:
                at = (at + timedelta(hours=1)).replace(minute=0, second=0)
            elif at.minute not in self.minutes:
                at = (at + timedelta(minutes=1)).replace(second=0)
            elif at.second not in self.seconds:
                at += timedelta(seconds=1)
            else:
                return at
        raise InvalidValueError(
            f"The cron schedule {self.expression!r} has no tick in {_SEARCH_YEARS} years.",
            field="cron",
        )
