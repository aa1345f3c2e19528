"""What a due item produces when it fires: pure decisions over the item, the time, and what
was read for it beforehand.

The tick (SchedulerHandlers.fire_due) claims one due item at a time with a lease, reads what
its kind needs through store.py, asks a function here, then writes and publishes what comes
back. An event's id derives from (schedule, occurrence), so a crash after publishing and a
re-fire is dropped by JetStream. After downtime, what is within the grace period fires once;
older occurrences are recorded as missed, never sent as a flood.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.scheduler import dates, domain, program, reviews
from services.scheduler.domain import NudgeKind, derived_id, stamp
from shared import recurrence
from shared.messages.base import EventData
from shared.messages.scheduler import (
    BoundaryWindowClosed,
    BoundaryWindowOpened,
    DateHappened,
    DateReminded,
    ProgramEnded,
    ProgramStageStarted,
    ReminderDue,
    ReminderKind,
    ReviewDue,
    RitualDue,
    RitualMissed,
)
from shared.mongo import Document
from shared.zones import zone

MemberDay = tuple[str, str, tuple[str, str] | None]  # member, time zone, quiet hours
# (event id, data, relationship, member): an event with a member goes to that member only.
Outgoing = tuple[str, EventData, str | None, str | None]


@dataclass
class Fired:
    """What one due item produced: events (with derived ids), its next state, and what is
    written before the events go out."""

    events: list[Outgoing] = field(default_factory=list)
    changes: dict[str, Any] | None = None  # None: the schedule is over
    nudges: list[Document] = field(default_factory=list)  # per-member nudges it schedules
    review: Document | None = None  # the monthly review its event announces
    review_log: Document | None = None  # a happening a later review tells


@dataclass(frozen=True)
class ReviewMonth:
    """What a review tells about its period, as read from the review log."""

    health_before: Document | None  # the last health reading before the period
    entries: list[Document]  # the period's happenings, oldest first


def next_occurrence(item: Document, after: datetime) -> datetime | None:
    start = datetime.fromisoformat(item["start_local"])
    return recurrence.next_after(item["rule"], item["timezone"], start, after)


def missed_count(item: Document, missed: bool) -> int:
    return int(item.get("missed_count", 0)) + int(missed)


def nudges(
    about: str,
    ref: str,
    rid: str,
    due: datetime,
    days: list[MemberDay],
    not_after: datetime | None = None,
) -> list[Document]:
    """One nudge per member, moved to the end of that member's quiet hours; a nudge that would
    then come after `not_after` (the ritual is over, the date has begun) is left out: it
    never reaches anyone inside their quiet hours."""
    out: list[Document] = []
    for member, timezone, quiet in days:
        at = domain.after_quiet_hours(due, timezone, quiet)
        if not_after is not None and at > not_after:
            continue
        out.append({
            "_id": f"nudge:{derived_id(about, ref, stamp(due), member)}", "kind": "nudge",
            "relationship_id": rid, "member_id": member, "about": about, "ref": ref,
            "due_at": due, "local_date": due.astimezone(zone(timezone)).date().isoformat(),
            "occurrence": at, "next_fire_at": at,
        })  # fmt: skip
    return out


# -- rituals --------------------------------------------------------------------------------
def ritual_starts(item: Document, now: datetime, grace: timedelta, days: list[MemberDay]) -> Fired:
    """An occurrence begins: it is due (with each member's nudge) unless it is far too late;
    either way the item looks again when the occurrence ends."""
    occurrence, rid, ritual = item["occurrence"], item["relationship_id"], item["ref"]
    ends = occurrence + timedelta(minutes=item["duration_minutes"])
    out = Fired(changes={"phase": "end", "next_fire_at": ends})
    if domain.firing(occurrence, now, grace).fire:
        out.events.append((f"ritual-due-{ritual}-{stamp(occurrence)}",
                           RitualDue(ritual_id=ritual, occurrence=occurrence, ends_at=ends),
                           rid, None))  # fmt: skip
        # Each member's nudge, after their quiet hours but while the ritual still runs.
        out.nudges = nudges(NudgeKind.RITUAL, ritual, rid, occurrence, days, not_after=ends)
    return out


def ritual_ends(item: Document, outcome_recorded: bool) -> Fired:
    """An occurrence is over: missed unless someone recorded how it went; on to the next."""
    occurrence, rid, ritual = item["occurrence"], item["relationship_id"], item["ref"]
    out = Fired()
    if not outcome_recorded:
        missed = RitualMissed(ritual_id=ritual, occurrence=occurrence)
        out.events.append((f"ritual-missed-{ritual}-{stamp(occurrence)}", missed, rid, None))
    following = next_occurrence(item, occurrence)
    out.changes = None if following is None else {
        "phase": "start", "occurrence": following, "next_fire_at": following,
    }  # fmt: skip
    return out


# -- a member's daily check-in reminder -------------------------------------------------------
def reminder_day(item: Document) -> date:
    """The member's own day the reminder is for."""
    return date.fromisoformat(item["day"])


def reminder(
    item: Document,
    now: datetime,
    grace: timedelta,
    checked_in: bool,
    backed_off: bool,
    backoff_every_days: int,
) -> Fired:
    """The day's reminder goes out unless they checked in, burnout thins it out, or it is far
    too late (then it counts as missed); on to the next day's."""
    member, day, out = item["member_id"], reminder_day(item), Fired()
    quiet = tuple(item["quiet"]) if item.get("quiet") else None
    wanted = domain.reminder_wanted(day, checked_in, backed_off, backoff_every_days)
    on_time = domain.firing(item["occurrence"], now, grace).fire
    if wanted and on_time:
        out.events.append((f"reminder-{member}-{day.isoformat()}", ReminderDue(
            reminder_id=f"{member}-{day.isoformat()}", member_id=member,
            kind=ReminderKind.CHECKIN, local_date=day, due_at=item["occurrence"],
        ), None, member))  # fmt: skip
    next_day, at = domain.next_reminder(
        max(item["occurrence"], now - grace), item["time"], item["timezone"], quiet
    )
    out.changes = {"day": next_day.isoformat(), "occurrence": at, "next_fire_at": at,
                   "missed_count": missed_count(item, not on_time)}  # fmt: skip
    return out


# -- boundary windows -----------------------------------------------------------------------
def window(item: Document, now: datetime, grace: timedelta) -> Fired:
    """A window opens (unless far too late) and later closes whatever opened, however late."""
    occurrence, rid, boundary = item["occurrence"], item["relationship_id"], item["ref"]
    closes = occurrence + timedelta(minutes=item["duration_minutes"])
    out = Fired()
    if item["phase"] == "start":
        opened = domain.firing(occurrence, now, grace).fire
        if opened:
            out.events.append((f"window-open-{boundary}-{stamp(occurrence)}",
                               BoundaryWindowOpened(boundary_id=boundary, opens_at=occurrence,
                                                    closes_at=closes), rid, None))  # fmt: skip
        out.changes = {"phase": "end", "next_fire_at": closes, "opened": opened}
        return out
    if item.get("opened"):  # whatever opened is closed again, however late
        out.events.append((f"window-close-{boundary}-{stamp(occurrence)}",
                           BoundaryWindowClosed(boundary_id=boundary, opened_at=occurrence,
                                                closes_at=closes), rid, None))  # fmt: skip
    following = next_occurrence(item, max(occurrence, now - grace))
    out.changes = None if following is None else {
        "phase": "start", "occurrence": following, "next_fire_at": following, "opened": False,
    }  # fmt: skip
    return out


# -- the monthly review ---------------------------------------------------------------------
def _review_due(item: Document, days: list[MemberDay]) -> datetime:
    """Its occurrence, moved out of every member's quiet hours (they may have changed since
    it was planned)."""
    return reviews.clear_of_everyone(item["occurrence"], [(tz, quiet) for _, tz, quiet in days])


def _review_period_start(item: Document) -> datetime:
    start: datetime = item.get("period_start") or item["occurrence"] - timedelta(days=30)
    return start


def review_period(
    item: Document, now: datetime, grace: timedelta, days: list[MemberDay]
) -> tuple[datetime, datetime] | None:
    """The period a review fired now tells about (read its month for `review`), or None when
    it does not fire now."""
    due = _review_due(item, days)
    if due > now or not domain.firing(due, now, grace).fire:
        return None
    return _review_period_start(item), due


def review(
    item: Document,
    now: datetime,
    grace: timedelta,
    days: list[MemberDay],
    month: ReviewMonth | None,
) -> Fired:
    """Someone's quiet hours hold it; otherwise the review is written and announced (with each
    member's nudge) unless it is far too late; on to next month's."""
    occurrence, rid, out = item["occurrence"], item["relationship_id"], Fired()
    due = _review_due(item, days)
    if due > now:
        out.changes = {"next_fire_at": due}
        return out
    if domain.firing(due, now, grace).fire:
        assert month is not None, "a review that fires needs its month (see review_period)"
        review_id = f"{rid}-{stamp(occurrence)}"
        period_start = _review_period_start(item)
        out.review = {"_id": review_id, "relationship_id": rid, "period_start": period_start,
                      "period_end": due,
                      "content": reviews.content(month.health_before, month.entries)}  # fmt: skip
        due_event = ReviewDue(review_id=review_id, due_at=due, period_start=period_start)
        out.events.append((f"review-{rid}-{stamp(occurrence)}", due_event, rid, None))
        out.nudges = nudges(NudgeKind.REVIEW, review_id, rid, due, days)
    following = next_occurrence(item, max(occurrence, now - grace))
    out.changes = None if following is None else {
        "occurrence": following, "next_fire_at": following, "period_start": due,
    }  # fmt: skip
    return out


# -- the trust-rebuilding program -------------------------------------------------------------
def _program_id(item: Document) -> str:
    # Programs started before proposals existed carry no id of their own.
    return item.get("program_id") or f"{item['relationship_id']}-{stamp(item['started_at'])}"


def program_stage(item: Document, days: list[MemberDay]) -> Fired:
    """A stage begins (with each member's nudge); the item moves to the next stage, or to the
    program's end after the last one."""
    index, rid, out = int(item["stage_index"]), item["relationship_id"], Fired()
    started_at, program_id = item["started_at"], _program_id(item)
    stage = program.STAGES[index]
    begins = started_at + stage.starts_after
    started = ProgramStageStarted(
        program_id=program_id, stage=stage.stage, prompt_codes=list(stage.prompt_codes),
        starts_at=begins,
    )  # fmt: skip
    out.events.append((f"program-{program_id}-{index}", started, rid, None))
    out.nudges = nudges(NudgeKind.PROGRAM, f"{program_id}-{index}", rid, begins, days)
    if index + 1 >= len(program.STAGES):
        ends = program.ends_at(started_at)
        out.changes = {"phase": "end", "occurrence": ends, "next_fire_at": ends}
    else:
        following = started_at + program.STAGES[index + 1].starts_after
        out.changes = {"stage_index": index + 1, "occurrence": following,
                       "next_fire_at": following}  # fmt: skip
    return out


def program_end(item: Document) -> Fired:
    """The program ended; the schedule is over (the program reads as ended from now on)."""
    program_id, out = _program_id(item), Fired()
    ended = ProgramEnded(program_id=program_id, ended_at=item["occurrence"])
    out.events.append((f"program-{program_id}-ended", ended, item["relationship_id"], None))
    return out


# -- one member's nudge ------------------------------------------------------------------------
def nudge(
    item: Document, now: datetime, grace: timedelta, backed_off: bool, members: Collection[str]
) -> Fired:
    """One member's nudge: it goes out unless burnout pauses its kind, it came far too late
    (after downtime), or the member has left the relationship. Either way it is over."""
    rid, member, out = item["relationship_id"], item["member_id"], Fired()
    paused = domain.nudge_paused(item["about"], backed_off)
    on_time = domain.firing(item["occurrence"], now, grace).fire
    if paused or member not in members or not on_time:
        return out
    reminder_id = item["_id"].removeprefix("nudge:")
    out.events.append((f"nudge-{reminder_id}", ReminderDue(
        reminder_id=reminder_id, member_id=member, kind=ReminderKind(item["about"]),
        local_date=date.fromisoformat(item["local_date"]), due_at=item["due_at"],
        ref_id=item["ref"], delivered_at=now,
    ), rid, member))  # fmt: skip
    return out


# -- digital dates --------------------------------------------------------------------------
def date_reminds(
    item: Document,
    now: datetime,
    grace: timedelta,
    current: Document | None,
    days: list[MemberDay],
) -> Fired:
    """Before a date that still stands: the reminder (with each member's nudge before it
    begins) unless far too late; the item looks again when the date ends."""
    rid, ref, out = item["relationship_id"], item["ref"], Fired()
    if current is None or current["status"] != "accepted":
        return out  # declined or gone meanwhile
    if domain.firing(item["occurrence"], now, grace).fire:
        minutes = int(item["remind_minutes_before"])
        out.events.append((f"date-reminded-{ref}", DateReminded(
            **dates.facts(current), minutes_before=minutes), rid, None))  # fmt: skip
        # Dates the members set themselves still remind during burnout.
        out.nudges = nudges(NudgeKind.DATE, ref, rid, item["occurrence"], days,
                            not_after=current["starts_at"])  # fmt: skip
    out.changes = {"phase": "happened", "occurrence": current["ends_at"],
                   "next_fire_at": current["ends_at"]}  # fmt: skip
    return out


def date_happened(item: Document, current: Document | None) -> Fired:
    """After a date that still stood: it happened (and a later review tells so)."""
    rid, ref, out = item["relationship_id"], item["ref"], Fired()
    if current is None or current["status"] != "accepted":
        return out  # declined or gone meanwhile
    out.events.append((f"date-happened-{ref}", DateHappened(**dates.facts(current)), rid, None))
    out.review_log = {"_id": f"date-happened-{ref}", "relationship_id": rid,
                      "at": current["ends_at"], "kind": "date_happened", "ref": ref,
                      "date_kind": current["kind"]}  # fmt: skip
    return out
