"""The scheduler's rules: pure functions over plain data; time is passed in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.zones import zone

WEEKDAYS = {"mo": "MO", "tu": "TU", "we": "WE", "th": "TH", "fr": "FR", "sa": "SA", "su": "SU"}


def stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def derived_id(*parts: object) -> str:
    """A stable id from what makes something unique (a retried command or re-fire repeats it)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def outcome_key(ritual_id: str, occurrence: datetime) -> str:
    """Which occurrence of a ritual an outcome was recorded for."""
    return f"{ritual_id}:{stamp(occurrence)}"


def checkin_key(member_id: str, local_day: date) -> str:
    """A member checked in on this day of their own (so that day's reminder stays quiet)."""
    return f"{member_id}:{local_day.isoformat()}"


def parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: time, start: time, end: time) -> bool:
    """Quiet hours may wrap midnight (22:00-07:00)."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def after_quiet_hours(instant: datetime, timezone: str, quiet: tuple[str, str] | None) -> datetime:
    """When a nudge due at `instant` may reach a member: at once, or at the end of their quiet
    hours when it falls inside them (quiet hours that wrap midnight end the next morning)."""
    if quiet is None:
        return instant
    tz = zone(timezone)
    local = instant.astimezone(tz)
    start, end = parse_clock(quiet[0]), parse_clock(quiet[1])
    if not in_quiet_hours(local.time(), start, end):
        return instant
    ends_tomorrow = start > end and local.time() >= start
    end_day = local.date() + timedelta(days=1) if ends_tomorrow else local.date()
    return datetime.combine(end_day, end).replace(tzinfo=tz).astimezone(instant.tzinfo)


class NudgeKind:
    """What a per-member nudge is about; burnout pauses the ones the system chose itself."""

    RITUAL = "ritual"
    PROGRAM = "program"
    REVIEW = "review"
    DATE = "digital_date"


# While intimacy burnout shows, nudges the system chose pause (the review is still written, its
# nudge waits); what members set themselves (dates, boundary windows) still goes out.
PAUSED_DURING_BURNOUT = frozenset({NudgeKind.RITUAL, NudgeKind.PROGRAM, NudgeKind.REVIEW})


def nudge_paused(kind: str, burnout: bool) -> bool:
    return burnout and kind in PAUSED_DURING_BURNOUT


def reminder_instant(
    local_day: date, reminder: str, timezone: str, quiet: tuple[str, str] | None
) -> datetime:
    """When a member's daily reminder for `local_day` fires: their chosen local time, moved to
    the end of their quiet hours when it falls inside them (the next morning, for quiet hours
    that wrap midnight and a reminder set late in the evening)."""
    tz = zone(timezone)
    at = parse_clock(reminder)
    if quiet is not None:
        start, end = parse_clock(quiet[0]), parse_clock(quiet[1])
        if in_quiet_hours(at, start, end):
            ends_tomorrow = start > end and at >= start
            end_day = local_day + timedelta(days=1) if ends_tomorrow else local_day
            return datetime.combine(end_day, end).replace(tzinfo=tz)
    return datetime.combine(local_day, at).replace(tzinfo=tz)


def next_reminder(
    after: datetime, reminder: str, timezone: str, quiet: tuple[str, str] | None
) -> tuple[date, datetime]:
    """The first (local day, instant) of a reminder strictly after `after`."""
    local_day = after.astimezone(zone(timezone)).date() - timedelta(days=1)
    for offset in range(4):
        day = local_day + timedelta(days=offset)
        instant = reminder_instant(day, reminder, timezone, quiet)
        if instant > after:
            return day, instant
    raise AssertionError("a daily reminder always has a next day")


def reminder_wanted(local_day: date, checked_in: bool, backed_off: bool, every: int) -> bool:
    """At most one a day, none after a check-in, and fewer while burnout shows."""
    if checked_in:
        return False
    return not backed_off or local_day.toordinal() % every == 0


def window_rule(days: list[str] | None, start: str) -> str:
    clock = parse_clock(start)
    by_day = f";BYDAY={','.join(WEEKDAYS[d] for d in days)}" if days else ""
    return (
        f"FREQ=WEEKLY{by_day};BYHOUR={clock.hour};BYMINUTE={clock.minute};BYSECOND=0"
        if days
        else (f"FREQ=DAILY;BYHOUR={clock.hour};BYMINUTE={clock.minute};BYSECOND=0")
    )


def window_minutes(start: str, end: str) -> int:
    """A window's length; one that ends 'earlier' than it starts runs past midnight."""
    begin, finish = parse_clock(start), parse_clock(end)
    minutes = (finish.hour * 60 + finish.minute) - (begin.hour * 60 + begin.minute)
    return minutes if minutes > 0 else minutes + 24 * 60


@dataclass(frozen=True)
class Firing:
    """What to do with a due occurrence: fire it, or record it as missed (too late)."""

    fire: bool
    late_by: timedelta


def firing(occurrence: datetime, now: datetime, grace: timedelta) -> Firing:
    late = now - occurrence
    return Firing(fire=late <= grace, late_by=late)
