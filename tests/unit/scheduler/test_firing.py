"""What a due item produces when it fires, as pure decisions: each kind on time, within the
grace period, missed after downtime, and held or moved by quiet hours where they apply."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.scheduler import firing, program, reviews
from services.scheduler.domain import NudgeKind, stamp
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

GRACE = timedelta(minutes=15)
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
NIGHT = ("22:00", "07:00")
RID = "rel1"
# Ana has no quiet hours; Ben is in Tokyo (19:00 there at AT), quiet from 18:00 to 20:00.
DAYS: list[firing.MemberDay] = [("ana", "UTC", None), ("ben", "Asia/Tokyo", ("18:00", "20:00"))]


def event_types(out: firing.Fired) -> list[type]:
    return [type(data) for _, data, _, _ in out.events]


def nudged(out: firing.Fired) -> dict[str, datetime]:
    return {n["member_id"]: n["occurrence"] for n in out.nudges}


# -- rituals --------------------------------------------------------------------------------
def ritual_item(**extra: Any) -> Document:
    return {"_id": "ritual:walk", "kind": "ritual", "relationship_id": RID, "ref": "walk",
            "rule": "FREQ=DAILY", "timezone": "UTC", "start_local": "2026-11-01T10:00:00",
            "duration_minutes": 90, "phase": "start", "occurrence": AT, "next_fire_at": AT,
            **extra}  # fmt: skip


def test_a_ritual_on_time_is_due_and_nudges_each_member_while_it_runs():
    out = firing.ritual_starts(ritual_item(), AT, GRACE, DAYS)
    assert out.events == [(f"ritual-due-walk-{stamp(AT)}",
                           RitualDue(ritual_id="walk", occurrence=AT,
                                     ends_at=AT + timedelta(minutes=90)), RID, None)]  # fmt: skip
    # Ben's nudge waits for the end of his quiet hours (20:00 in Tokyo, 11:00 UTC).
    assert nudged(out) == {"ana": AT, "ben": AT + timedelta(hours=1)}
    assert out.changes == {"phase": "end", "next_fire_at": AT + timedelta(minutes=90)}


def test_a_ritual_nudge_that_would_come_after_it_ended_is_left_out():
    short = ritual_item(duration_minutes=30)
    assert nudged(firing.ritual_starts(short, AT, GRACE, DAYS)) == {"ana": AT}


def test_a_ritual_within_grace_still_fires_and_one_missed_during_downtime_does_not():
    late = firing.ritual_starts(ritual_item(), AT + timedelta(minutes=14), GRACE, DAYS)
    assert event_types(late) == [RitualDue]
    missed = firing.ritual_starts(ritual_item(), AT + timedelta(days=2), GRACE, DAYS)
    assert missed.events == [] and missed.nudges == []
    assert missed.changes == {"phase": "end", "next_fire_at": AT + timedelta(minutes=90)}


def test_a_ritual_that_ends_without_an_outcome_is_missed_and_moves_to_the_next_day():
    out = firing.ritual_ends(ritual_item(phase="end"), outcome_recorded=False)
    assert out.events == [(f"ritual-missed-walk-{stamp(AT)}",
                           RitualMissed(ritual_id="walk", occurrence=AT), RID, None)]  # fmt: skip
    following = AT + timedelta(days=1)
    assert out.changes == {"phase": "start", "occurrence": following, "next_fire_at": following}
    assert firing.ritual_ends(ritual_item(phase="end"), outcome_recorded=True).events == []


def test_a_ritual_with_no_further_occurrence_is_over():
    once = ritual_item(phase="end", rule="FREQ=DAILY;COUNT=1", start_local="2026-11-02T10:00:00")
    assert firing.ritual_ends(once, outcome_recorded=True).changes is None


# -- a member's daily reminder ----------------------------------------------------------------
def reminder_item(**extra: Any) -> Document:
    return {"_id": "reminder:ana", "kind": "reminder", "member_id": "ana", "time": "10:00",
            "timezone": "UTC", "quiet": None, "day": "2026-11-02", "occurrence": AT,
            "next_fire_at": AT, **extra}  # fmt: skip


def remind(item: Document, now: datetime, checked_in: bool = False, backed_off: bool = False):
    return firing.reminder(item, now, GRACE, checked_in, backed_off, backoff_every_days=3)


def test_a_reminder_on_time_goes_to_the_member_alone_and_moves_to_the_next_day():
    out = remind(reminder_item(), AT + timedelta(minutes=10))
    assert out.events == [("reminder-ana-2026-11-02", ReminderDue(
        reminder_id="ana-2026-11-02", member_id="ana", kind=ReminderKind.CHECKIN,
        local_date=date(2026, 11, 2), due_at=AT), None, "ana")]  # fmt: skip
    tomorrow = AT + timedelta(days=1)
    assert out.changes == {"day": "2026-11-03", "occurrence": tomorrow, "next_fire_at": tomorrow,
                           "missed_count": 0}  # fmt: skip


def test_no_reminder_after_a_check_in_and_fewer_during_burnout():
    assert remind(reminder_item(), AT, checked_in=True).events == []
    # During burnout only every third day's reminder goes out: 3 Nov 2026 is one, 2 Nov not.
    assert date(2026, 11, 3).toordinal() % 3 == 0
    assert remind(reminder_item(), AT, backed_off=True).events == []
    on_the_day = reminder_item(day="2026-11-03", occurrence=AT + timedelta(days=1))
    assert len(remind(on_the_day, AT + timedelta(days=1), backed_off=True).events) == 1


def test_a_reminder_missed_during_downtime_counts_and_the_next_is_after_the_return():
    back = AT + timedelta(days=3, hours=1)  # 5 Nov, 11:00
    out = remind(reminder_item(missed_count=2), back)
    assert out.events == []
    following = AT + timedelta(days=4)  # 6 Nov, 10:00: no flood of the days in between
    assert out.changes == {"day": "2026-11-06", "occurrence": following,
                           "next_fire_at": following, "missed_count": 3}  # fmt: skip


def test_a_reminder_set_inside_quiet_hours_comes_when_they_end():
    late = reminder_item(time="23:00", quiet=list(NIGHT))
    out = remind(late, AT)
    assert out.changes is not None
    assert out.changes["occurrence"] == datetime(2026, 11, 3, 7, 0, tzinfo=UTC)


# -- boundary windows -----------------------------------------------------------------------
def window_item(**extra: Any) -> Document:
    return {"_id": "window:b1", "kind": "window", "relationship_id": RID, "ref": "b1",
            "rule": "FREQ=DAILY;BYHOUR=10;BYMINUTE=0;BYSECOND=0", "timezone": "UTC",
            "start_local": "2026-11-01T00:00:00", "duration_minutes": 60, "phase": "start",
            "occurrence": AT, "next_fire_at": AT, "opened": False, **extra}  # fmt: skip


def test_a_window_on_time_opens_then_closes_and_moves_to_the_next_day():
    closes = AT + timedelta(hours=1)
    opened = firing.window(window_item(), AT + timedelta(minutes=5), GRACE)
    assert opened.events == [(f"window-open-b1-{stamp(AT)}", BoundaryWindowOpened(
        boundary_id="b1", opens_at=AT, closes_at=closes), RID, None)]  # fmt: skip
    assert opened.changes == {"phase": "end", "next_fire_at": closes, "opened": True}
    closed = firing.window(window_item(phase="end", opened=True), closes, GRACE)
    assert closed.events == [(f"window-close-b1-{stamp(AT)}", BoundaryWindowClosed(
        boundary_id="b1", opened_at=AT, closes_at=closes), RID, None)]  # fmt: skip
    following = AT + timedelta(days=1)
    assert closed.changes == {"phase": "start", "occurrence": following,
                              "next_fire_at": following, "opened": False}  # fmt: skip


def test_a_window_missed_during_downtime_neither_opens_nor_closes():
    back = AT + timedelta(days=2, hours=3)
    missed = firing.window(window_item(), back, GRACE)
    assert missed.events == [] and missed.changes == {
        "phase": "end", "next_fire_at": AT + timedelta(hours=1), "opened": False}  # fmt: skip
    ended = firing.window(window_item(phase="end", opened=False), back, GRACE)
    assert ended.events == []
    assert ended.changes is not None and ended.changes["occurrence"] == AT + timedelta(days=3)


def test_a_window_that_opened_closes_however_late():
    closed = firing.window(window_item(phase="end", opened=True), AT + timedelta(days=2), GRACE)
    assert event_types(closed) == [BoundaryWindowClosed]


# -- the monthly review ---------------------------------------------------------------------
def review_item(**extra: Any) -> Document:
    return {"_id": f"review:{RID}", "kind": "review", "relationship_id": RID,
            "rule": reviews.rule(2, "10:00"), "timezone": "UTC",
            "start_local": "2026-10-01T00:00:00", "period_start": AT - timedelta(days=31),
            "occurrence": AT, "next_fire_at": AT, **extra}  # fmt: skip


MONTH = firing.ReviewMonth(
    health_before=None,
    entries=[{"kind": "ritual_outcome", "outcome": "completed", "at": AT - timedelta(days=3)}],
)


def test_a_review_on_time_is_written_announced_and_nudged():
    assert firing.review_period(review_item(), AT, GRACE, DAYS[:1]) == (
        AT - timedelta(days=31), AT)  # fmt: skip
    out = firing.review(review_item(), AT, GRACE, DAYS[:1], MONTH)
    review_id = f"{RID}-{stamp(AT)}"
    assert out.review is not None
    assert out.review["_id"] == review_id and out.review["period_end"] == AT
    assert out.review["content"]["rituals"] == {"kept": 1, "skipped": 0}
    announced = ReviewDue(review_id=review_id, due_at=AT, period_start=AT - timedelta(days=31))
    assert out.events == [(f"review-{RID}-{stamp(AT)}", announced, RID, None)]
    assert [(n["about"], n["ref"]) for n in out.nudges] == [(NudgeKind.REVIEW, review_id)]
    following = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert out.changes == {"occurrence": following, "next_fire_at": following,
                           "period_start": AT}  # fmt: skip


def test_someones_quiet_hours_hold_the_review_until_they_end():
    # Ben's quiet hours (18:00-20:00 Tokyo) cover 10:00 UTC: the review waits until 11:00 UTC.
    assert firing.review_period(review_item(), AT, GRACE, DAYS) is None
    held = firing.review(review_item(), AT, GRACE, DAYS, None)
    assert held.events == [] and held.review is None
    assert held.changes == {"next_fire_at": AT + timedelta(hours=1)}
    later = AT + timedelta(hours=1)
    assert firing.review_period(review_item(), later, GRACE, DAYS) == (
        AT - timedelta(days=31), later)  # fmt: skip
    fired = firing.review(review_item(), later, GRACE, DAYS, MONTH)
    assert event_types(fired) == [ReviewDue]


def test_a_review_missed_during_downtime_is_not_written_and_waits_for_next_month():
    back = AT + timedelta(days=3)
    assert firing.review_period(review_item(), back, GRACE, DAYS[:1]) is None
    out = firing.review(review_item(), back, GRACE, DAYS[:1], None)
    assert out.events == [] and out.review is None and out.nudges == []
    following = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert out.changes == {"occurrence": following, "next_fire_at": following,
                           "period_start": AT}  # fmt: skip


# -- the trust-rebuilding program -------------------------------------------------------------
def program_item(**extra: Any) -> Document:
    return {"_id": f"program:{RID}", "kind": "program", "relationship_id": RID,
            "program_id": "p1", "started_at": AT, "stage_index": 0, "phase": "stage",
            "occurrence": AT, "next_fire_at": AT, **extra}  # fmt: skip


def test_a_program_stage_starts_with_nudges_and_moves_to_the_next_stage():
    out = firing.program_stage(program_item(), DAYS)
    first = program.STAGES[0]
    assert out.events == [("program-p1-0", ProgramStageStarted(
        program_id="p1", stage=first.stage, prompt_codes=list(first.prompt_codes),
        starts_at=AT), RID, None)]  # fmt: skip
    assert nudged(out) == {"ana": AT, "ben": AT + timedelta(hours=1)}
    following = AT + program.STAGES[1].starts_after
    assert out.changes == {"stage_index": 1, "occurrence": following, "next_fire_at": following}


def test_after_the_last_stage_the_program_ends():
    last = len(program.STAGES) - 1
    out = firing.program_stage(program_item(stage_index=last), [])
    ends = program.ends_at(AT)
    assert out.changes == {"phase": "end", "occurrence": ends, "next_fire_at": ends}
    ended = firing.program_end(program_item(phase="end", occurrence=ends))
    assert ended.events == [("program-p1-ended", ProgramEnded(program_id="p1", ended_at=ends),
                             RID, None)]  # fmt: skip
    assert ended.changes is None


def test_a_program_from_before_proposals_takes_its_id_from_its_start():
    out = firing.program_end(program_item(program_id=None, phase="end"))
    assert out.events[0][0] == f"program-{RID}-{stamp(AT)}-ended"


# -- one member's nudge ----------------------------------------------------------------------
def nudge_item(about: str = NudgeKind.RITUAL, **extra: Any) -> Document:
    return {"_id": "nudge:n1", "kind": "nudge", "relationship_id": RID, "member_id": "ana",
            "about": about, "ref": "walk", "due_at": AT, "local_date": "2026-11-02",
            "occurrence": AT, "next_fire_at": AT, **extra}  # fmt: skip


def test_a_nudge_on_time_goes_to_its_member_alone_and_is_over():
    now = AT + timedelta(minutes=3)
    out = firing.nudge(nudge_item(), now, GRACE, backed_off=False, members={"ana", "ben"})
    assert out.events == [("nudge-n1", ReminderDue(
        reminder_id="n1", member_id="ana", kind=ReminderKind.RITUAL, local_date=date(2026, 11, 2),
        due_at=AT, ref_id="walk", delivered_at=now), RID, "ana")]  # fmt: skip
    assert out.changes is None


def test_a_nudge_stays_quiet_during_burnout_after_leaving_or_far_too_late():
    members = {"ana", "ben"}
    assert firing.nudge(nudge_item(), AT, GRACE, backed_off=True, members=members).events == []
    date_nudge = nudge_item(NudgeKind.DATE)
    assert len(firing.nudge(date_nudge, AT, GRACE, backed_off=True, members=members).events) == 1
    assert firing.nudge(nudge_item(), AT, GRACE, backed_off=False, members={"ben"}).events == []
    late = AT + timedelta(hours=2)
    assert firing.nudge(nudge_item(), late, GRACE, backed_off=False, members=members).events == []


# -- digital dates --------------------------------------------------------------------------
STARTS = AT + timedelta(minutes=30)
DATE: Document = {"_id": "d1", "relationship_id": RID, "starts_at": STARTS,
                  "ends_at": STARTS + timedelta(hours=2), "timezone": "UTC",
                  "duration_minutes": 120, "kind": "video", "status": "accepted"}  # fmt: skip
FACTS = {"date_id": "d1", "starts_at": STARTS, "timezone": "UTC", "duration_minutes": 120,
         "kind": "video"}  # fmt: skip


def date_item(phase: str = "remind") -> Document:
    at = AT if phase == "remind" else DATE["ends_at"]
    return {"_id": "date:d1", "kind": "date", "relationship_id": RID, "ref": "d1",
            "phase": phase, "facts": FACTS, "remind_minutes_before": 30, "occurrence": at,
            "next_fire_at": at}  # fmt: skip


def test_a_date_reminds_on_time_and_nudges_only_before_it_begins():
    out = firing.date_reminds(date_item(), AT, GRACE, DATE, DAYS)
    assert out.events == [("date-reminded-d1", DateReminded(**FACTS, minutes_before=30),
                           RID, None)]  # fmt: skip
    # Ben's quiet hours end after the date has begun: he gets no nudge in them, nor after.
    assert nudged(out) == {"ana": AT}
    assert out.changes == {"phase": "happened", "occurrence": DATE["ends_at"],
                           "next_fire_at": DATE["ends_at"]}  # fmt: skip


def test_a_date_reminder_missed_during_downtime_still_waits_for_the_date_to_happen():
    out = firing.date_reminds(date_item(), AT + timedelta(hours=1), GRACE, DATE, DAYS)
    assert out.events == [] and out.nudges == []
    assert out.changes is not None and out.changes["phase"] == "happened"


def test_a_date_declined_or_gone_meanwhile_is_over_without_a_word():
    declined = {**DATE, "status": "declined"}
    for current in (declined, None):
        for out in (firing.date_reminds(date_item(), AT, GRACE, current, DAYS),
                    firing.date_happened(date_item("happened"), current)):  # fmt: skip
            assert out.events == [] and out.changes is None and out.review_log is None


def test_a_date_that_stood_happened_and_a_later_review_tells_so():
    out = firing.date_happened(date_item("happened"), DATE)
    assert out.events == [("date-happened-d1", DateHappened(**FACTS), RID, None)]
    assert out.review_log == {"_id": "date-happened-d1", "relationship_id": RID,
                              "at": DATE["ends_at"], "kind": "date_happened", "ref": "d1",
                              "date_kind": "video"}  # fmt: skip
    assert out.changes is None
