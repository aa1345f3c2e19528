"""Digital dates: when a date stands, where it falls in each member's day, and which slots
to suggest. Pure rules over plain data; time is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from services.scheduler.domain import parse_clock
from shared.zones import zone

STEP = timedelta(minutes=30)
# An early evening at home is the easiest time for most people; the further a slot lies from
# it in someone's own day, the more that person gives up for it.
EASIEST = time(19, 0)


@dataclass(frozen=True)
class MemberDay:
    member_id: str
    timezone: str
    quiet: tuple[str, str] | None
    wakes: str = "08:00"
    sleeps: str = "22:00"


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    inconvenience: dict[str, float]  # hours from each member's easiest time

    @property
    def spread(self) -> float:
        values = self.inconvenience.values()
        return max(values) - min(values)


def status(answers: dict[str, str], members: frozenset[str]) -> str:
    """A date stands once every current member accepted; one 'no' is enough to call it off."""
    if "declined" in answers.values():
        return "declined"
    accepted = {m for m, answer in answers.items() if answer == "accepted"}
    return "accepted" if members and members <= accepted else "proposed"


def local_view(moment: datetime, timezone: str) -> str:
    return moment.astimezone(zone(timezone)).isoformat()


def _intervals(day_start: datetime, start: str, end: str) -> list[tuple[datetime, datetime]]:
    """A daily [start, end) local window around a local day, as aware intervals (may wrap)."""
    tz, out = day_start.tzinfo, []
    for offset in (-1, 0, 1):
        day = (day_start + timedelta(days=offset)).date()
        begin = datetime.combine(day, parse_clock(start)).replace(tzinfo=tz)
        finish = datetime.combine(day, parse_clock(end)).replace(tzinfo=tz)
        if finish <= begin:
            finish = datetime.combine(day + timedelta(days=1), parse_clock(end)).replace(tzinfo=tz)
        out.append((begin, finish))
    return out


def fits(member: MemberDay, start: datetime, end: datetime) -> bool:
    """Inside the member's waking day and clear of every minute of their quiet hours."""
    local_start = start.astimezone(zone(member.timezone))
    local_end = end.astimezone(zone(member.timezone))
    awake = any(
        begin <= local_start and local_end <= finish
        for begin, finish in _intervals(local_start, member.wakes, member.sleeps)
    )
    if not awake:
        return False
    if member.quiet is None or member.quiet[0] == member.quiet[1]:
        return True
    return not any(
        begin < local_end and local_start < finish
        for begin, finish in _intervals(local_start, member.quiet[0], member.quiet[1])
    )


def inconvenience(member: MemberDay, start: datetime) -> float:
    local = start.astimezone(zone(member.timezone))
    minutes = local.hour * 60 + local.minute - (EASIEST.hour * 60 + EASIEST.minute)
    return round(abs(minutes) / 60, 2)


def suggest(
    members: list[MemberDay], start: datetime, end: datetime, duration: timedelta, limit: int = 10
) -> list[Slot]:
    """Slots of `duration` between `start` and `end` that fit every member, the most evenly
    shared inconvenience first, then the least in total, then the earliest."""
    first = start.replace(second=0, microsecond=0)
    if first.minute % 30:
        first += timedelta(minutes=30 - first.minute % 30)
    found: list[Slot] = []
    cursor = first
    while cursor + duration <= end:
        if all(fits(m, cursor, cursor + duration) for m in members):
            costs = {m.member_id: inconvenience(m, cursor) for m in members}
            found.append(Slot(cursor, cursor + duration, costs))
        cursor += STEP
    found.sort(key=lambda s: (s.spread, sum(s.inconvenience.values()), s.starts_at))
    return found[:limit]
