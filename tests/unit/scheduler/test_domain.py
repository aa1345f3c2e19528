"""Scheduler rules: DST-correct occurrences, quiet hours, one reminder a day, windows, grace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.scheduler import domain, program
from shared import recurrence


def occurrences(rule: str, tz: str, start: str, frm: str, to: str) -> list[str]:
    window = tuple(
        datetime.fromisoformat(t if "T" in t else f"{t}T00:00").replace(tzinfo=UTC)
        for t in (frm, to)
    )
    found = recurrence.occurrences_between(rule, tz, datetime.fromisoformat(start), *window)
    return [o.astimezone(UTC).strftime("%m-%d %H:%M") for o in found]


def test_a_sunday_ten_oclock_ritual_in_berlin_stays_at_ten_across_both_changes():
    weekly = "FREQ=WEEKLY;BYDAY=SU"
    spring = occurrences(weekly, "Europe/Berlin", "2026-03-01T10:00", "2026-03-20", "2026-04-02")
    autumn = occurrences(weekly, "Europe/Berlin", "2026-10-04T10:00", "2026-10-20", "2026-11-02")
    assert spring == ["03-22 09:00", "03-29 08:00"]  # 10:00 CET, then 10:00 CEST
    assert autumn == ["10-25 09:00", "11-01 09:00"]  # 10:00 CET after the change on 25 Oct


def test_new_york_changes_on_its_own_dates():
    daily = "FREQ=DAILY"
    ny = "America/New_York"
    march = occurrences(daily, ny, "2026-03-01T20:00", "2026-03-07T12:00", "2026-03-10")
    november = occurrences(daily, ny, "2026-10-20T20:00", "2026-10-31T12:00", "2026-11-03")
    assert march == ["03-08 01:00", "03-09 00:00"]  # 20:00 EST, then 20:00 EDT (8 March)
    assert november == ["11-01 00:00", "11-02 01:00"]  # 20:00 EDT, then 20:00 EST (1 Nov)


def test_a_local_time_that_does_not_exist_fires_one_gap_later():
    # 29 March 2026 in Berlin: clocks jump from 02:00 to 03:00, so 02:30 never happens.
    after = datetime(2026, 3, 28, 12, tzinfo=UTC)
    nxt = recurrence.next_after("FREQ=DAILY", "Europe/Berlin", datetime(2026, 3, 1, 2, 30), after)
    assert nxt is not None
    assert nxt.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    following = recurrence.next_after("FREQ=DAILY", "Europe/Berlin",
                                      datetime(2026, 3, 1, 2, 30), nxt)  # fmt: skip
    assert following is not None and following.astimezone(UTC).hour == 0  # 02:30 CEST again


@pytest.mark.parametrize(
    ("at", "quiet", "expected"),
    [
        ("20:30", ("22:00", "07:00"), "2026-11-20T20:30"),
        ("23:00", ("22:00", "07:00"), "2026-11-21T07:00"),  # moved to the end of quiet hours
        ("06:00", ("22:00", "07:00"), "2026-11-20T07:00"),
        ("13:00", ("12:00", "14:00"), "2026-11-20T14:00"),
        ("14:00", ("12:00", "14:00"), "2026-11-20T14:00"),  # the end itself is not quiet
    ],
)
def test_a_reminder_is_never_inside_quiet_hours(at, quiet, expected):
    instant = domain.reminder_instant(date(2026, 11, 20), at, "Europe/Berlin", quiet)
    assert instant.replace(tzinfo=None).isoformat(timespec="minutes") == expected


def test_the_next_reminder_is_one_a_day_in_the_members_zone():
    after = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # 20:00 in Berlin
    day, at = domain.next_reminder(after, "20:30", "Europe/Berlin", None)
    assert (day, at.astimezone(UTC)) == (
        date(2026, 11, 20),
        datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
    )
    day2, at2 = domain.next_reminder(at, "20:30", "Europe/Berlin", None)
    assert day2 == date(2026, 11, 21) and at2 - at == timedelta(days=1)


def test_no_reminder_after_a_checkin_and_fewer_during_burnout():
    day = date(2026, 11, 20)
    assert domain.reminder_wanted(day, checked_in=False, backed_off=False, every=3)
    assert not domain.reminder_wanted(day, checked_in=True, backed_off=False, every=3)
    wanted = [domain.reminder_wanted(day + timedelta(days=i), False, True, 3) for i in range(9)]
    assert wanted.count(True) == 3


def test_windows_run_on_their_days_and_may_pass_midnight():
    rule = domain.window_rule(["mo", "we"], "19:00")
    assert rule == "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=19;BYMINUTE=0;BYSECOND=0"
    assert domain.window_rule(None, "07:30") == "FREQ=DAILY;BYHOUR=7;BYMINUTE=30;BYSECOND=0"
    assert domain.window_minutes("19:00", "20:00") == 60
    assert domain.window_minutes("23:00", "01:00") == 120


def test_within_grace_fires_and_older_is_missed():
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    grace = timedelta(minutes=15)
    assert domain.firing(now - timedelta(minutes=15), now, grace).fire
    assert not domain.firing(now - timedelta(minutes=16), now, grace).fire


def test_the_trust_program_has_its_four_stages_in_order():
    assert [s.starts_after.days for s in program.STAGES] == [0, 7, 28, 84]
