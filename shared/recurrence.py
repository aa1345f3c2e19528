"""Recurring rituals: RFC 5545 RRULEs evaluated in local time of an IANA zone, DST-correct.

Both the checkin service (is this a real occurrence?) and the scheduler (when
is the next one?) read rules the same way, so the code lives here once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import takewhile

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from shared import rule_bounds
from shared.problems import InvalidInput
from shared.zones import zone

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
# A ritual is a moment a couple keeps, not a clock tick: more than this a day is refused, so
# no rule fires hundreds of events a day or makes a schedule expand without end.
MAX_PER_DAY = 3
# The most occurrences one expansion of one rule yields (3 a day for the longest 92-day view).
MAX_PER_EXPANSION = MAX_PER_DAY * 93


def local_start(starts_at: datetime, timezone: str) -> datetime:
    """A ritual's first start as naive local time in its zone (the RRULE's DTSTART)."""
    if starts_at.tzinfo is not None:
        starts_at = starts_at.astimezone(zone(timezone))
    return starts_at.replace(tzinfo=None, microsecond=0)


def parse_rule(rule: str, start_local: datetime) -> rrule:
    text = rule.strip().removeprefix("RRULE:")
    if "DTSTART" in text.upper() or "\n" in text:
        raise InvalidInput("give the start as starts_at, not inside the rule", field="rrule")
    try:
        parsed = rrulestr(text, dtstart=start_local)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a valid RFC 5545 RRULE: {exc}", field="rrule") from exc
    if not isinstance(parsed, rrule):
        raise InvalidInput("give a single RRULE", field="rrule")
    if parsed._freq not in ALLOWED_FREQUENCIES:  # type: ignore[attr-defined]
        raise InvalidInput("rituals repeat daily, weekly, monthly or yearly", field="rrule")
    if times_per_day(parsed) > MAX_PER_DAY:
        raise InvalidInput(f"a ritual happens at most {MAX_PER_DAY} times a day", field="rrule")
    # Bounded, on the caller's event loop: never dateutil's own search for the first one.
    rule_bounds.check_shape(parsed)
    if rule_bounds.first_occurrence(parsed, start_local) is None:
        raise InvalidInput("this rule does not occur within four years of its start", field="rrule")
    return parsed


def times_per_day(parsed: rrule) -> int:
    """The most occurrences the rule can have on one day: every combination of its hours,
    minutes and seconds (dateutil fills each from the start when the rule names none)."""
    parts = (parsed._byhour, parsed._byminute, parsed._bysecond)  # type: ignore[attr-defined]
    count = 1
    for values in parts:
        count *= max(1, len(values or ()))
    return count


def is_occurrence(rule: str, timezone: str, start_local: datetime, occurrence: datetime) -> bool:
    """True when `occurrence` is the instant of one of the rule's local-time occurrences.

    Local times are mapped to instants in the ritual's zone (DST-correct, fold 0),
    so a 10:00 Sunday ritual is 10:00 local on both sides of a clock change.
    """
    tz = zone(timezone)
    parsed = parse_rule(rule, start_local)
    local = occurrence.astimezone(tz).replace(tzinfo=None)
    window = timedelta(hours=3)  # covers instants shifted by a DST gap
    return any(
        candidate.replace(tzinfo=tz) == occurrence
        for candidate in parsed.between(local - window, local + window, inc=True)
    )


def occurrences_between(
    rule: str, timezone: str, start_local: datetime, start: datetime, end: datetime
) -> list[datetime]:
    """Instants (aware, in the ritual's zone) of the occurrences in [start, end)."""
    tz = zone(timezone)
    parsed = parse_rule(rule, start_local)
    local_from = start.astimezone(tz).replace(tzinfo=None) - timedelta(hours=3)
    local_to = end.astimezone(tz).replace(tzinfo=None) + timedelta(hours=3)
    # Lazily and at most MAX_PER_EXPANSION: a rule can never make one expansion unbounded.
    candidates = parsed.xafter(local_from, count=MAX_PER_EXPANSION, inc=True)
    found = (c.replace(tzinfo=tz) for c in takewhile(lambda c: c <= local_to, candidates))
    return [instant for instant in found if start <= instant < end]


def next_after(rule: str, timezone: str, start_local: datetime, after: datetime) -> datetime | None:
    """The first occurrence instant strictly after `after`, or None when the rule has ended.

    A local time that does not exist on a clock-change day (02:30 when clocks jump from
    02:00 to 03:00) is read with the offset before the change, so it lands one gap later
    (03:30 local); a repeated local time (autumn) takes its first instant.
    """
    tz = zone(timezone)
    parsed = parse_rule(rule, start_local)
    local = after.astimezone(tz).replace(tzinfo=None) - timedelta(hours=3)
    for candidate in parsed.xafter(local, inc=True):
        instant = candidate.replace(tzinfo=tz)
        if instant > after:
            return instant
    return None
