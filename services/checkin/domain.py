"""The checkin service's rules and decisions: pure functions over plain data, no I/O.

The rules (check_*, score_*, ...) say what is allowed. The decisions (one per command,
at the end) say what a command does: the one document it inserts or the guarded change
of the one it acts on, the events it publishes and the entry it replies. Time, the
actor's key and any loaded entry are passed in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.checkin.mapping import Context, entry_doc, event, view
from services.checkin.sealing import seal
from shared import recurrence
from shared.envelope import Envelope, Visibility
from shared.messages import checkin as events
from shared.messages.base import EventData
from shared.messages.checkin_rpc import (
    AddPerspective,
    AnswerBid,
    BoundaryRef,
    CompleteAssessment,
    CreateRitual,
    Entry,
    LogCheckin,
    LogConflict,
    LogRepair,
    LogTime,
    LogTouch,
    MakeBid,
    ProposeBoundary,
    RecordRitualOutcome,
    ReportBreach,
)
from shared.messages.vocabulary import AssessmentBand
from shared.mongo import Document
from shared.problems import AttuneError, Conflict, Forbidden, InvalidInput
from shared.recurrence import is_occurrence

MAX_AHEAD = timedelta(minutes=5)
MAX_BACK = timedelta(days=400)


# -- time and membership ---------------------------------------------------------------


def to_millis(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds: round here so a reply and a later read agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def occurred(occurred_at: datetime | None, now: datetime) -> datetime:
    """When a fact happened: now by default, never more than 5 min ahead or 400 days back."""
    if occurred_at is None:
        return now
    occurred_at = to_millis(occurred_at)
    if occurred_at > now + MAX_AHEAD:
        raise InvalidInput("occurred_at lies in the future", field="occurred_at")
    if occurred_at < now - MAX_BACK:
        raise InvalidInput("occurred_at is more than 400 days ago", field="occurred_at")
    return occurred_at


# Blanket criticism ("you always ...", "you never ...") earns its author a reframe suggestion.
_CRITICISM = re.compile(r"\byou\s+(always|never)\b", re.IGNORECASE)


def reads_as_criticism(note: str | None) -> bool:
    return bool(note and _CRITICISM.search(note))


# -- bids ------------------------------------------------------------------------------


def check_touch_partner(actor: str, partner: str | None, members: frozenset[str]) -> None:
    if partner is None:
        return
    if partner == actor:
        raise InvalidInput("touch is shared with someone else", field="with_member_id")
    if partner not in members:
        raise InvalidInput("that person is not a member", field="with_member_id")


def check_bid_target(actor: str, to_member: str, members: frozenset[str]) -> None:
    if to_member == actor:
        raise InvalidInput("a bid reaches out to someone else", field="to_member_id")
    if to_member not in members:
        raise InvalidInput("the bid's target is not a member", field="to_member_id")


@dataclass(frozen=True)
class BidState:
    from_member_id: str
    to_member_id: str
    answered: bool


def check_bid_answer(bid: BidState, actor: str) -> None:
    if actor != bid.to_member_id:
        raise Forbidden("only the member the bid was made to can answer it", code="not_bid_target")
    if bid.answered:
        raise Conflict("this bid has already been answered", code="bid_already_answered")


# -- boundaries ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryState:
    accepted_by: frozenset[str]
    retired: bool


def boundary_status(boundary: BoundaryState, members: frozenset[str]) -> str:
    """Active only while every *current* member has accepted it; a newcomer must accept too."""
    if boundary.retired:
        return "retired"
    return "active" if members and members <= boundary.accepted_by else "proposed"


def awaiting(boundary: BoundaryState, members: frozenset[str]) -> list[str]:
    return sorted(members - boundary.accepted_by)


def accept_boundary(
    boundary: BoundaryState, actor: str, members: frozenset[str]
) -> tuple[BoundaryState, bool]:
    """Record the actor's acceptance; returns the new state and whether it just became active."""
    if boundary.retired:
        raise Conflict("this boundary was retired", code="boundary_retired")
    if actor in boundary.accepted_by:
        raise Conflict("you already accepted this boundary", code="boundary_already_accepted")
    before = boundary_status(boundary, members)
    after = BoundaryState(accepted_by=boundary.accepted_by | {actor}, retired=False)
    return after, before != "active" and boundary_status(after, members) == "active"


def retire_boundary(boundary: BoundaryState) -> BoundaryState:
    # Any member may retire a boundary: an agreement someone no longer holds is not mutual.
    if boundary.retired:
        raise Conflict("this boundary was already retired", code="boundary_retired")
    return BoundaryState(accepted_by=boundary.accepted_by, retired=True)


def check_breach(boundary: BoundaryState, members: frozenset[str]) -> None:
    if boundary_status(boundary, members) != "active":
        raise Conflict(
            "a breach can only be reported against an active boundary", code="boundary_not_active"
        )


# -- conflicts -------------------------------------------------------------------------


def check_perspective(actor: str, author: str, perspectives: dict[str, object]) -> None:
    """Only another member adds a perspective to a conflict, and each of them once."""
    if actor == author:
        raise Forbidden(
            "you logged this conflict; a perspective is for the other member(s)",
            code="own_conflict",
        )
    if actor in perspectives:
        raise Conflict(
            "you already gave your perspective on this conflict", code="perspective_already_added"
        )


def check_repair(repaired: bool) -> None:
    if repaired:
        raise Conflict("this conflict was already repaired", code="conflict_already_repaired")


# -- assessment ------------------------------------------------------------------------


def score_assessment(answers: list[bool]) -> tuple[int, AssessmentBand]:
    if len(answers) != 10:
        raise InvalidInput("the assessment takes exactly ten answers", field="answers")
    score = sum(answers)
    if score >= 9:
        return score, AssessmentBand.STRONG
    if score >= 5:
        return score, AssessmentBand.ROOM_TO_GROW
    return score, AssessmentBand.NEEDS_CONVERSATION


# -- rituals ---------------------------------------------------------------------------


def check_outcome(
    rule: str,
    timezone: str,
    start_local: datetime,
    occurrence: datetime,
    now: datetime,
    already_recorded: bool = False,
) -> None:
    if not is_occurrence(rule, timezone, start_local, occurrence):
        raise InvalidInput("that time is not an occurrence of this ritual", field="occurrence")
    if occurrence > now + MAX_AHEAD:
        raise InvalidInput("this occurrence has not started yet", field="occurrence")
    if already_recorded:
        raise Conflict(OUTCOME_RECORDED, code="outcome_already_recorded")


OUTCOME_RECORDED = "you already recorded how this occurrence went (it already has an outcome)"


# -- decisions -------------------------------------------------------------------------


@dataclass
class New:
    """Insert one entry. Its id is derived from the command id (so a repeat collides), or
    from what it records (a day, an occurrence): then a collision that is not this
    command's repeat is `on_duplicate`."""

    document: Document
    events: list[Envelope]
    result: Entry
    on_duplicate: AttuneError | None = None
    # Another entry's state that follows from this one (a repaired conflict): set after
    # the insert, idempotently, and again on a replay.
    follow_up: tuple[str, dict[str, Any]] | None = None


@dataclass
class Change:
    """A change of the loaded entry, guarded by the version it was loaded at."""

    entry_id: str
    version: int
    set_fields: dict[str, Any]
    events: list[Envelope]
    result: Entry
    extra: dict[str, Any] = field(default_factory=dict)


Decision = New | Change


def derived_id(*parts: str) -> str:
    """An entry id derived from what makes it unique (shaped like every other id)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def new_entry_id(ctx: Context) -> str:
    return derived_id("entry", ctx.command_id)


def _sealed(ctx: Context, kind: str, entry_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return seal(ctx.key, ctx.relationship_id, ctx.actor, kind, entry_id, fields)


def _created(ctx: Context, document: Document, data: EventData, **extra: Any) -> New:
    visibility = Visibility(document["visibility"])
    return New(document, [event(ctx, data, visibility, document["_id"])], view(document), **extra)


def log_checkin(ctx: Context, cmd: LogCheckin) -> New:
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    plain = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
    fields = _sealed(ctx, "checkin", entry_id, plain)
    doc = entry_doc(ctx, "checkin", entry_id, at, cmd.visibility, fields)
    criticism = cmd.visibility is Visibility.SHARED and reads_as_criticism(cmd.note)
    data = events.CheckinLogged(
        checkin_id=entry_id, author_id=ctx.actor, occurred_at=at, mood=cmd.mood,
        connection=cmd.connection, pillars=cmd.pillars, needs=cmd.needs,
        signals=cmd.signals, feelings=fields["feelings"], gratitude=fields["gratitude"],
        note=fields["note"], criticism=criticism,
    )  # fmt: skip
    return _created(ctx, doc, data)


def make_bid(ctx: Context, cmd: MakeBid) -> New:
    check_bid_target(ctx.actor, cmd.to_member_id, ctx.members)
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    fields = cmd.model_dump(mode="json", exclude={"occurred_at"})
    doc = entry_doc(ctx, "bid", entry_id, at, Visibility.SHARED, fields, {"status": "open"})
    data = events.BidMade(
        bid_id=entry_id, from_member_id=ctx.actor, to_member_id=cmd.to_member_id,
        kind=cmd.kind, channel=cmd.channel, occurred_at=at,
    )  # fmt: skip
    return _created(ctx, doc, data)


def answer_bid(ctx: Context, cmd: AnswerBid, bid: Document) -> Change:
    state = BidState(
        from_member_id=bid["author_id"],
        to_member_id=bid["fields"]["to_member_id"],
        answered=bid["state"]["status"] != "open",
    )
    check_bid_answer(state, ctx.actor)
    at = max(occurred(cmd.occurred_at, ctx.now), bid["occurred_at"])
    answer = {"status": "answered", "response": cmd.response.value, "answered_at": at}
    data = events.BidAnswered(
        bid_id=bid["_id"], from_member_id=state.from_member_id,
        to_member_id=state.to_member_id, response=cmd.response,
        made_at=bid["occurred_at"], occurred_at=at,
    )  # fmt: skip
    return Change(
        bid["_id"],
        bid["version"],
        {f"state.{k}": v for k, v in answer.items()},
        [event(ctx, data, Visibility.SHARED, bid["_id"])],
        view(bid, **answer),
    )


def log_touch(ctx: Context, cmd: LogTouch) -> New:
    check_touch_partner(ctx.actor, cmd.with_member_id, ctx.members)
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    fields = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
    doc = entry_doc(ctx, "touch", entry_id, at, cmd.visibility, fields)
    data = events.TouchLogged(
        touch_id=entry_id, author_id=ctx.actor, kind=cmd.kind, sexual=cmd.sexual,
        minutes=cmd.minutes, occurred_at=at, with_member_id=cmd.with_member_id,
    )  # fmt: skip
    return _created(ctx, doc, data)


def log_time(ctx: Context, cmd: LogTime) -> New:
    # One log per member and day: the id is derived from both, so a second one collides.
    day = f"{ctx.relationship_id}:{ctx.actor}:{cmd.date.isoformat()}"
    entry_id = "time-" + hashlib.sha256(day.encode()).hexdigest()[:40]
    at = occurred(datetime.combine(cmd.date, datetime.min.time(), tzinfo=UTC), ctx.now)
    fields = cmd.model_dump(mode="json", exclude={"visibility"})
    doc = entry_doc(ctx, "time_log", entry_id, at, cmd.visibility, fields)
    data = events.TimeLogged(
        time_log_id=entry_id, author_id=ctx.actor, date=cmd.date,
        screen_minutes=cmd.screen_minutes, face_to_face_minutes=cmd.face_to_face_minutes,
    )  # fmt: skip
    already = Conflict("this day is already logged", code="already_recorded")
    return _created(ctx, doc, data, on_duplicate=already)


def boundary_state(document: Document) -> BoundaryState:
    state = document["state"]
    return BoundaryState(frozenset(state["accepted_by"]), state["retired"])


def boundary_view(document: Document, members: frozenset[str]) -> Entry:
    state = boundary_state(document)
    return view(
        document,
        status=boundary_status(state, members),
        awaiting=awaiting(state, members),
    )


def propose_boundary(ctx: Context, cmd: ProposeBoundary) -> New:
    entry_id = new_entry_id(ctx)
    state = {"accepted_by": [ctx.actor], "retired": False}
    fields = _sealed(ctx, "boundary", entry_id, cmd.model_dump(mode="json"))
    doc = entry_doc(ctx, "boundary", entry_id, ctx.now, Visibility.SHARED, fields, state)
    result = boundary_view(doc, ctx.members)
    data = events.BoundaryProposed(
        boundary_id=entry_id, proposed_by=ctx.actor, kind=cmd.kind, rule=fields["rule"],
        window=cmd.window, awaiting=result.fields["awaiting"],
    )  # fmt: skip
    return New(doc, [event(ctx, data, Visibility.SHARED, entry_id)], result)


def accept_boundary_by(ctx: Context, _cmd: BoundaryRef, boundary: Document) -> Change:
    state, activated = accept_boundary(boundary_state(boundary), ctx.actor, ctx.members)
    accepted = sorted(state.accepted_by)
    after = {**boundary, "state": {**boundary["state"], "accepted_by": accepted}}
    result = boundary_view(after, ctx.members)
    found: list[EventData] = [
        events.BoundaryAccepted(
            boundary_id=boundary["_id"], member_id=ctx.actor, awaiting=result.fields["awaiting"]
        )
    ]
    if activated:
        found.append(
            events.BoundaryActivated(
                boundary_id=boundary["_id"],
                kind=boundary["fields"]["kind"],
                window=boundary["fields"].get("window"),
                accepted_by=accepted,
                proposed_by=boundary["author_id"],
            )
        )
    envelopes = [event(ctx, data, Visibility.SHARED, boundary["_id"]) for data in found]
    return Change(
        boundary["_id"], boundary["version"], {"state.accepted_by": accepted}, envelopes, result
    )


def retire_boundary_by(ctx: Context, _cmd: BoundaryRef, boundary: Document) -> Change:
    retire_boundary(boundary_state(boundary))
    after = {**boundary, "state": {**boundary["state"], "retired": True}}
    data = events.BoundaryRetired(boundary_id=boundary["_id"], retired_by=ctx.actor)
    return Change(
        boundary["_id"],
        boundary["version"],
        {"state.retired": True},
        [event(ctx, data, Visibility.SHARED, boundary["_id"])],
        boundary_view(after, ctx.members),
    )


def report_breach(ctx: Context, cmd: ReportBreach, boundary: Document) -> New:
    check_breach(boundary_state(boundary), ctx.members)
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    plain = cmd.model_dump(mode="json", exclude={"occurred_at"})
    fields = _sealed(ctx, "breach", entry_id, plain)
    doc = entry_doc(ctx, "breach", entry_id, at, Visibility.SHARED, fields)
    data = events.BoundaryBreached(
        breach_id=entry_id, boundary_id=cmd.boundary_id, reported_by=ctx.actor,
        note=fields.get("note"), occurred_at=at,
    )  # fmt: skip
    return _created(ctx, doc, data)


def log_conflict(ctx: Context, cmd: LogConflict) -> New:
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    plain = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
    fields = _sealed(ctx, "conflict", entry_id, plain)
    doc = entry_doc(ctx, "conflict", entry_id, at, cmd.visibility, fields, {"repaired": False})
    data = events.ConflictLogged(
        conflict_id=entry_id, author_id=ctx.actor, occurred_at=at, topic=fields["topic"],
        intensity=cmd.intensity, shut_down=cmd.shut_down,
        sarcasm_or_contempt=cmd.sarcasm_or_contempt,
        avoided_eye_contact=cmd.avoided_eye_contact,
    )  # fmt: skip
    return _created(ctx, doc, data)


def log_repair(ctx: Context, cmd: LogRepair, conflict: Document) -> New:
    check_repair(conflict["state"]["repaired"])
    at = max(occurred(cmd.occurred_at, ctx.now), conflict["occurred_at"])
    visibility = Visibility(conflict["visibility"])  # a repair is as private as its conflict
    # One repair per conflict: its id is derived from the conflict's, so a second collides.
    entry_id = derived_id("repair", conflict["_id"])
    fields = cmd.model_dump(mode="json", exclude={"occurred_at"})
    doc = entry_doc(ctx, "repair", entry_id, at, visibility, fields)
    data = events.RepairLogged(
        repair_id=entry_id, conflict_id=cmd.conflict_id, author_id=ctx.actor,
        felt=cmd.felt, occurred_at=at,
    )  # fmt: skip
    already = Conflict("this conflict was already repaired", code="conflict_already_repaired")
    repaired = (conflict["_id"], {"state.repaired": True})
    return _created(ctx, doc, data, on_duplicate=already, follow_up=repaired)


def add_perspective(ctx: Context, cmd: AddPerspective, conflict: Document) -> Change:
    perspectives = dict(conflict["state"].get("perspectives", {}))
    check_perspective(ctx.actor, conflict["author_id"], perspectives)
    mine = cmd.model_dump(mode="json", exclude={"conflict_id"})
    perspectives[ctx.actor] = mine
    # A perspective is as private as its conflict (only a shared one reaches others).
    visibility = Visibility(conflict["visibility"])
    data = events.ConflictPerspectiveAdded(
        conflict_id=cmd.conflict_id, author_id=ctx.actor, intensity=cmd.intensity,
        shut_down=cmd.shut_down, sarcasm_or_contempt=cmd.sarcasm_or_contempt,
        avoided_eye_contact=cmd.avoided_eye_contact,
        conflict_occurred_at=conflict["occurred_at"], occurred_at=ctx.now,
    )  # fmt: skip
    return Change(
        conflict["_id"],
        conflict["version"],
        {f"state.perspectives.{ctx.actor}": mine},
        [event(ctx, data, visibility, cmd.conflict_id)],
        view(conflict, perspectives=perspectives),
    )


def complete_assessment(ctx: Context, cmd: CompleteAssessment) -> New:
    score, band = score_assessment(cmd.answers)
    at = occurred(cmd.occurred_at, ctx.now)
    entry_id = new_entry_id(ctx)
    fields = {"answers": cmd.answers, "score": score, "band": band.value}
    doc = entry_doc(ctx, "assessment", entry_id, at, cmd.visibility, fields)
    data = events.AssessmentCompleted(
        assessment_id=entry_id, member_id=ctx.actor, answers=cmd.answers, score=score,
        band=band, occurred_at=at,
    )  # fmt: skip
    return _created(ctx, doc, data)


def create_ritual(ctx: Context, cmd: CreateRitual) -> New:
    start = recurrence.local_start(cmd.starts_at, cmd.timezone)
    recurrence.parse_rule(cmd.rrule, start)
    entry_id = new_entry_id(ctx)
    plain = {**cmd.model_dump(mode="json"), "starts_at": start.isoformat()}
    fields = _sealed(ctx, "ritual", entry_id, plain)
    doc = entry_doc(ctx, "ritual", entry_id, ctx.now, Visibility.SHARED, fields)
    data = events.RitualCreated(
        ritual_id=entry_id, created_by=ctx.actor, title=fields["title"], rrule=cmd.rrule,
        timezone=cmd.timezone, starts_at=start, duration_minutes=cmd.duration_minutes,
    )  # fmt: skip
    return _created(ctx, doc, data)


def record_ritual_outcome(ctx: Context, cmd: RecordRitualOutcome, ritual: Document) -> New:
    fields = ritual["fields"]
    occurrence = cmd.occurrence.astimezone(UTC)
    check_outcome(
        fields["rrule"], fields["timezone"], datetime.fromisoformat(fields["starts_at"]),
        occurrence, ctx.now,
    )  # fmt: skip
    # The id is derived from the occurrence and the member: each member records their own
    # outcome (three or more members may not all make it), once; a second one collides.
    slot = f"{ritual['_id']}:{int(occurrence.timestamp())}:{ctx.actor}"
    entry_id = "outcome-" + hashlib.sha256(slot.encode()).hexdigest()[:40]
    body = _sealed(ctx, "ritual_outcome", entry_id, cmd.model_dump(mode="json"))
    doc = entry_doc(ctx, "ritual_outcome", entry_id, ctx.now, Visibility.SHARED, body)
    data: EventData
    if cmd.outcome == "completed":
        data = events.RitualCompleted(
            ritual_id=ritual["_id"], occurrence=occurrence, member_id=ctx.actor,
            occurred_at=ctx.now,
        )  # fmt: skip
    else:
        data = events.RitualSkipped(
            ritual_id=ritual["_id"], occurrence=occurrence, member_id=ctx.actor,
            reason=body.get("reason"), occurred_at=ctx.now,
        )  # fmt: skip
    already = Conflict(OUTCOME_RECORDED, code="outcome_already_recorded")
    return _created(ctx, doc, data, on_duplicate=already)
