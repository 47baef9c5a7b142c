from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.jobs.cron import CronSchedule
from domain.shared.errors import InvalidValueError

AT = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("expression", "ticks"),
    [
        ("*/5 * * * * *", ["12:00:05", "12:00:10", "12:00:15"]),
        ("*/15 * * * *", ["12:15:00", "12:30:00", "12:45:00"]),
        ("0 3 * * *", ["2026-12-07 03:00:00", "2026-12-08 03:00:00"]),
        ("30 9 * * 1-5", ["2026-12-07 09:30:00", "2026-12-08 09:30:00"]),
        ("0 0 29 2 *", ["2028-02-29 00:00:00", "2032-02-29 00:00:00"]),
        ("0 0 1 * 0", ["2026-12-13 00:00:00", "2026-12-20 00:00:00"]),  # the 1st or a Sunday
        ("0 0 * * 7", ["2026-12-13 00:00:00"]),  # 7 is Sunday too
        ("10-40/15 12 6 12 *", ["12:10:00", "12:25:00", "12:40:00", "2027-12-06 12:10:00"]),
        ("7/20 * * * *", ["12:07:00", "12:27:00", "12:47:00", "13:07:00"]),
        ("0 0 1,15 1 *", ["2027-01-01 00:00:00", "2027-01-15 00:00:00"]),
    ],
)
def test_the_next_ticks(expression: str, ticks: list[str]) -> None:
    schedule = CronSchedule.parse(expression)
    at, found = AT, []
    for _ in ticks:
        at = schedule.next_after(at)
        found.append(at)
    expected = [
        datetime.fromisoformat(t if "-" in t else f"2026-12-06 {t}").replace(tzinfo=UTC)
        for t in ticks
    ]
    assert found == expected


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("* * * *", "5 or 6 fields"),
        ("60 * * * *", "minute 60 is not within 0-59"),
        ("* * 0 * *", "day of month 0"),
        ("* * * 13 *", "month 13"),
        ("*/0 * * * *", "step 0"),
        ("5-1 * * * *", "runs backwards"),
        ("a * * * *", "'a' is not a number"),
        ("0 0 30 2 *", "no tick in 5 years"),
    ],
)
def test_a_bad_schedule_is_refused_by_name(expression: str, words: str) -> None:
    with pytest.raises(InvalidValueError, match=words):
        CronSchedule.parse(expression).next_after(AT)


NAIVE_FROM = datetime(2026, 1, 1)  # noqa: DTZ001 - hypothesis takes naive bounds
NAIVE_TO = datetime(2030, 1, 1)  # noqa: DTZ001


def _matches(schedule: CronSchedule, at: datetime) -> bool:
    return (
        at.second in schedule.seconds
        and at.minute in schedule.minutes
        and at.hour in schedule.hours
        and at.month in schedule.months
        and schedule._day_matches(at)
    )


_field = st.one_of(
    st.just("*"),
    st.integers(0, 59).map(str),
    st.tuples(st.integers(0, 30), st.integers(30, 59), st.integers(1, 20)).map(
        lambda t: f"{t[0]}-{t[1]}/{t[2]}"
    ),
)


@given(
    second=_field,
    minute=_field,
    hour=st.sampled_from(["*", "0", "*/6", "9-17", "23"]),
    after=st.datetimes(
        min_value=NAIVE_FROM,
        max_value=NAIVE_TO,
        timezones=st.just(UTC),
    ),
)
def test_the_next_tick_matches_and_none_is_skipped(
    second: str, minute: str, hour: str, after: datetime
) -> None:
    """Against a brute-force search second by second over the hour or two that follows."""
    schedule = CronSchedule.parse(f"{second} {minute} {hour} * * *")
    tick = schedule.next_after(after)
    assert tick > after
    assert _matches(schedule, tick)
    probe = after.replace(microsecond=0) + timedelta(seconds=1)
    while probe < min(tick, after + timedelta(hours=2)):
        assert not _matches(schedule, probe), probe
        probe += timedelta(seconds=1)
