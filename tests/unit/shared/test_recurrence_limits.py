"""A ritual rule cannot explode: at most three occurrences a day, and every expansion bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from shared import recurrence
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
