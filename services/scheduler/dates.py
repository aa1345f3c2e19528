"""Digital dates: when a date stands, where it falls in each member's day, and which slots
to suggest. Pure rules over plain data; time is passed in."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

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


def facts(doc: dict[str, Any]) -> dict[str, Any]:
    """What every date event says about the date."""
    return {"date_id": doc["_id"], "starts_at": doc["starts_at"], "timezone": doc["timezone"],
            "duration_minutes": doc["duration_minutes"], "kind": doc["kind"]}  # fmt: skip


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


def free_time(member: MemberDay, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The member's waking hours between `start` and `end` with their quiet hours taken out,
    as UTC intervals: what `fits` asks, worked out once per day instead of once per slot."""
    tz = zone(member.timezone)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    free: list[tuple[datetime, datetime]] = []
    while day <= last:
        midnight = datetime.combine(day, time()).replace(tzinfo=tz)
        wakes = datetime.combine(day, parse_clock(member.wakes)).replace(tzinfo=tz)
        sleeps = datetime.combine(day, parse_clock(member.sleeps)).replace(tzinfo=tz)
        pieces = [(wakes.astimezone(UTC), sleeps.astimezone(UTC))]
        if member.quiet is not None and member.quiet[0] != member.quiet[1]:
            for q_start, q_end in _intervals(midnight, member.quiet[0], member.quiet[1]):
                cut_start, cut_end = q_start.astimezone(UTC), q_end.astimezone(UTC)
                pieces = [
                    part
                    for a, b in pieces
                    for part in ((a, min(b, cut_start)), (max(a, cut_end), b))
                    if part[0] < part[1]
                ]
        free.extend(pieces)
        day += timedelta(days=1)
    return free


def suggest(
    members: list[MemberDay], start: datetime, end: datetime, duration: timedelta, limit: int = 10
) -> list[Slot]:
    """Slots of `duration` between `start` and `end` that fit every member, the most evenly
    shared inconvenience first, then the least in total, then the earliest."""
    first = start.astimezone(UTC).replace(second=0, microsecond=0)
    if first.minute % 30:
        first += timedelta(minutes=30 - first.minute % 30)
    free = {m.member_id: sorted(free_time(m, start, end)) for m in members}
    starts = {member: [a for a, _ in intervals] for member, intervals in free.items()}

    def open_for(member: str, begin: datetime, finish: datetime) -> bool:
        at = bisect_right(starts[member], begin) - 1  # the last free stretch begun by then
        return at >= 0 and finish <= free[member][at][1]

    found: list[Slot] = []
    cursor = first
    while cursor + duration <= end:
        finish = cursor + duration
        if all(open_for(m.member_id, cursor, finish) for m in members):
            costs = {m.member_id: inconvenience(m, cursor) for m in members}
            found.append(Slot(cursor, finish, costs))
        cursor += STEP
    found.sort(key=lambda s: (s.spread, sum(s.inconvenience.values()), s.starts_at))
    return found[:limit]
