"""A ritual rule cannot explode: at most three occurrences a day, every expansion bounded, and
whether a rule occurs at all is decided by looking at a bounded number of days."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dateutil.rrule import rrule, rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import recurrence, rule_bounds
from shared.problems import InvalidInput

START = datetime(2026, 1, 5, 9, 0)
EVERY_HOUR = ",".join(str(h) for h in range(24))
EVERY_MINUTE = ",".join(str(m) for m in range(60))


@pytest.mark.parametrize(
    "rule",
    [
        f"FREQ=DAILY;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}",
        f"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE={EVERY_MINUTE}",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0,1,2,3",
        "FREQ=MONTHLY;BYHOUR=8,9,10,11",
    ],
)
def test_a_rule_firing_more_than_three_times_a_day_is_refused(rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        recurrence.parse_rule(rule, START)
    assert refused.value.field == "rrule"


def test_three_times_a_day_is_a_ritual_and_expands_within_its_bound() -> None:
    rule = "FREQ=DAILY;BYHOUR=8,13,20;BYMINUTE=0;BYSECOND=0"
    begin = datetime(2026, 2, 1, tzinfo=UTC)
    started = time.perf_counter()
    found = recurrence.occurrences_between(
        rule, "Europe/Berlin", START, begin, begin + timedelta(days=92)
    )
    assert len(found) == 3 * 92
    assert len(found) <= recurrence.MAX_PER_EXPANSION
    assert time.perf_counter() - started < 1.0


# Rules that never occur (or not for decades): dateutil alone scans each to the year 9999.
NEVER = [
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1,2,3",
    "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2,4",
    "FREQ=MONTHLY;BYDAY=MO,1TU",  # dateutil wants a Monday that is the first Tuesday
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # every seventh day from a Monday is a Monday
    "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31",  # from February: only Februaries
    "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",  # 2026, 2030, ...: no leap year
    "FREQ=YEARLY;BYMONTH=2;BYDAY=5MO",  # first in 2044
    "FREQ=DAILY;UNTIL=20250101T000000",  # ended before it began
    "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
    "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6",
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    "FREQ=YEARLY;BYEASTER=0;BYMONTH=6",
    "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;BYMONTH=2;INTERVAL=12",
    "FREQ=MONTHLY;BYDAY=20MO",  # dateutil itself fails on this one (IndexError)
    "FREQ=YEARLY;INTERVAL=5000;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=DAILY;INTERVAL=1000000000",  # one step walks dateutil month by month to 9999
    "FREQ=DAILY;INTERVAL=0",
]
MONDAY_2_FEBRUARY = datetime(2026, 2, 2, 9, 0)


class Counted:
    """Counts the days the bounded walk looks at."""

    def __init__(self) -> None:
        self.days = 0
        self.filter = rule_bounds.on_rule_day

    def __call__(self, rule: dict[str, Any], day: date) -> bool:
        self.days += 1
        return self.filter(rule, day)


def unbounded(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("dateutil's own search for an occurrence has no bound")


@pytest.mark.parametrize("rule", NEVER)
def test_a_rule_that_never_occurs_is_refused_after_a_bounded_look(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted()
    monkeypatch.setattr(rule_bounds, "on_rule_day", counted)
    for search in ("after", "before", "between", "xafter"):
        monkeypatch.setattr(rrule, search, unbounded)
    with pytest.raises(InvalidInput) as refused:
        recurrence.parse_rule(rule, MONDAY_2_FEBRUARY)
    assert refused.value.field == "rrule"
    assert counted.days <= rule_bounds.LOOKAHEAD_DAYS + 1


def test_a_rare_rule_is_looked_for_no_further_than_four_years(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fifth_monday_of_february = rrulestr("FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", dtstart=START)
    assert isinstance(fifth_monday_of_february, rrule)
    counted = Counted()
    monkeypatch.setattr(rule_bounds, "on_rule_day", counted)
    assert rule_bounds.first_occurrence(fifth_monday_of_february, START) is None
    assert 4 * 365 <= counted.days <= rule_bounds.LOOKAHEAD_DAYS + 1
    # Started within four years of one, it is a ritual.
    assert recurrence.parse_rule("FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", datetime(2041, 3, 1))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=SU",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;BYHOUR=19;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2SA;BYHOUR=10",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=-1",
        "FREQ=YEARLY;BYDAY=-53MO",
        "FREQ=DAILY;BYMONTH=12;BYHOUR=8,20",
        "FREQ=DAILY;INTERVAL=2;BYDAY=MO",
        "FREQ=YEARLY;INTERVAL=4",
    ],
)
def test_the_bounded_look_finds_what_dateutil_finds(rule: str) -> None:
    for start in (START, datetime(2027, 12, 31, 23, 30), datetime(2028, 2, 29, 7, 0)):
        parsed = recurrence.parse_rule(rule, start)
        assert rule_bounds.first_occurrence(parsed, start) == parsed.after(start, inc=True)


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def ritual_rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 4))}"]
    if draw(st.booleans()):
        months = draw(st.sets(st.integers(1, 12), min_size=1, max_size=3))
        parts.append("BYMONTH=" + ",".join(map(str, sorted(months))))
    calendar_kind = draw(st.sampled_from(["none", "weekdays", "month days"]))
    if calendar_kind == "weekdays":
        nth = st.sampled_from(["", "1", "2", "4", "5", "-1", "-2", "-5"])
        if freq in ("DAILY", "WEEKLY"):
            nth = st.just("")
        days = draw(st.lists(st.tuples(nth, st.sampled_from(WEEKDAYS)), min_size=1, max_size=3))
        parts.append("BYDAY=" + ",".join(n + day for n, day in days))
    elif calendar_kind == "month days" and freq in ("MONTHLY", "YEARLY"):
        days = draw(st.lists(st.sampled_from([1, 15, 28, 29, 30, 31, -1, -29, -31]), min_size=1,
                             max_size=2))  # fmt: skip
        parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    if draw(st.booleans()):
        parts.append(f"BYHOUR={draw(st.integers(0, 23))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(WEEKDAYS))}")
    return ";".join(parts)


@settings(max_examples=300, deadline=None)
@given(
    rule=ritual_rules(),
    start=st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31)).map(
        lambda moment: moment.replace(second=0, microsecond=0)
    ),
)
def test_whenever_the_bounded_look_finds_an_occurrence_it_is_dateutils_first(
    rule: str, start: datetime
) -> None:
    parsed = rrulestr(rule, dtstart=start)
    assert isinstance(parsed, rrule)
    try:
        rule_bounds.check_shape(parsed)
    except InvalidInput:
        return
    found = rule_bounds.first_occurrence(parsed, start)
    if found is not None:  # dateutil's own search then has an end
        assert found == parsed.after(start, inc=True)
