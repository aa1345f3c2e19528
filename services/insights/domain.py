"""What each event contributes to the aggregates, and the view rules read.

Every contribution is commutative and keyed (counters added, first/last by
min/max, facts of one bid set by the one event that knows them), so the
aggregates end the same whatever order events arrive in; applying each event
once is the consumer's job (its id is the key). Relationship-level counters take
shared entries only, so no member can infer another's private entries; a
member's own counters (self-reports, streaks) take everything they logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.envelope import Visibility
from shared.messages.base import DecodedEvent
from shared.messages.checkin import (
    AssessmentCompleted,
    BidAnswered,
    BidMade,
    BoundaryBreached,
    CheckinLogged,
    ConflictLogged,
    RepairLogged,
    RitualCompleted,
    RitualSkipped,
    TimeLogged,
    TouchLogged,
)
from shared.messages.scheduler import RitualMissed

DAYS = "days"
MEMBER_DAYS = "member_days"
BIDS = "bids"
ASSESSMENTS = "assessments"
RELATIONSHIPS = "relationships"
ANSWERS = "answers"  # on the relationship: its latest bid answers, newest last
ANSWER_ORDER = ("at", "bid")
KEEP_ANSWERS = 50
BREACH_PREFIX = "breach__"  # one counter per boundary: breach__<boundary id>


@dataclass(frozen=True)
class Contribution:
    collection: str
    key: str
    on_insert: dict[str, Any] = field(default_factory=dict)
    inc: dict[str, float] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    min: dict[str, Any] = field(default_factory=dict)
    max: dict[str, Any] = field(default_factory=dict)
    # field -> entry kept in a list sorted by ANSWER_ORDER, only the newest KEEP_ANSWERS;
    # the same final list whatever order the entries arrive in.
    push: dict[str, dict[str, Any]] = field(default_factory=dict)


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _day(rid: str, when: date, **inc: float) -> Contribution:
    return Contribution(DAYS, f"{rid}:{when.isoformat()}",
                        {"relationship_id": rid, "day": when.isoformat()}, inc)  # fmt: skip


def _member_day(rid: str, member: str, when: date, **inc: float) -> Contribution:
    return Contribution(
        MEMBER_DAYS, f"{rid}:{member}:{when.isoformat()}",
        {"relationship_id": rid, "member_id": member, "day": when.isoformat()}, inc,
    )  # fmt: skip


def contributions(event: DecodedEvent) -> list[Contribution]:
    """The increments one event makes; [] for events the rules do not use."""
    envelope, data = event.envelope, event.data
    rid = envelope.relationship_id
    if rid is None:
        return []
    shared = envelope.visibility is Visibility.SHARED
    found: list[Contribution] = []
    when: datetime | None = getattr(data, "occurred_at", None)
    if isinstance(data, CheckinLogged):
        day = day_of(data.occurred_at)
        member = _member_day(rid, data.author_id, day, checkins=1)
        signals = data.signals
        if signals and signals.held_back:
            member.inc["held_back"] = 1
        if signals and signals.confided_elsewhere:
            member.inc["confided_elsewhere"] = 1
        if shared and data.criticism:  # judged by the checkin service, which can read the note
            member.inc["criticism_notes"] = 1
        found.append(member)
        if shared:
            counters: dict[str, float] = {"checkins": 1, "connection_sum": data.connection}
            for pillar, score in (data.pillars.model_dump() if data.pillars else {}).items():
                if score is not None:
                    counters[f"{pillar}_sum"] = score
                    counters[f"{pillar}_n"] = 1
            found.append(_day(rid, day, **counters))
    elif isinstance(data, BidMade):
        found.append(Contribution(BIDS, data.bid_id, {"relationship_id": rid},
                                  set={"made_at": data.occurred_at}))  # fmt: skip
        found.append(_day(rid, day_of(data.occurred_at), bids_made=1, exercises=1))
    elif isinstance(data, BidAnswered):
        found.append(Contribution(
            BIDS, data.bid_id, {"relationship_id": rid},
            set={"made_at": data.made_at, "answered_at": data.occurred_at,
                 "response": data.response.value},
        ))  # fmt: skip
        answer = {"at": data.occurred_at, "bid": data.bid_id, "response": data.response.value}
        found.append(Contribution(RELATIONSHIPS, rid, push={ANSWERS: answer}))
    elif isinstance(data, TouchLogged) and shared and not data.sexual:
        found.append(_day(rid, day_of(data.occurred_at), touch_nonsexual=1))
    elif isinstance(data, TimeLogged) and shared:
        found.append(_day(rid, data.date, screen_minutes=data.screen_minutes,
                          face_to_face_minutes=data.face_to_face_minutes, time_logs=1))  # fmt: skip
    elif isinstance(data, BoundaryBreached):
        found.append(
            _day(rid, day_of(data.occurred_at), **{f"{BREACH_PREFIX}{data.boundary_id}": 1})
        )
    elif isinstance(data, ConflictLogged) and shared:
        found.append(_day(
            rid, day_of(data.occurred_at), conflicts=1,
            conflict_shut_down=int(data.shut_down),
            conflict_contempt=int(data.sarcasm_or_contempt),
            conflict_eye_contact=int(data.avoided_eye_contact),
            conflict_overwhelming=int(data.intensity >= 4),
        ))  # fmt: skip
    elif isinstance(data, RepairLogged) and shared:
        found.append(_day(rid, day_of(data.occurred_at), **{f"repair_{data.felt.value}": 1}))
    elif isinstance(data, AssessmentCompleted):
        found.append(Contribution(
            ASSESSMENTS, data.assessment_id,
            {"relationship_id": rid, "member_id": data.member_id},
            set={"at": data.occurred_at, "band": data.band.value, "shared": shared},
        ))  # fmt: skip
        if shared:  # a private assessment is no evidence the partner may see (burnout)
            found.append(_day(rid, day_of(data.occurred_at), exercises=1))
    elif isinstance(data, RitualCompleted):
        found.append(_day(rid, day_of(data.occurred_at), rituals_completed=1, exercises=1))
    elif isinstance(data, RitualSkipped):
        found.append(_day(rid, day_of(data.occurrence), rituals_skipped=1))
    elif isinstance(data, RitualMissed):
        when = data.occurrence
        found.append(_day(rid, day_of(data.occurrence), rituals_missed=1))
    if found and shared:
        # A private entry never sets when the relationship's history starts (which gates
        # affection_drop) nor its last activity.
        moment = when or envelope.time
        first = {"first_day": day_of(moment).isoformat()}
        found.append(Contribution(RELATIONSHIPS, rid, min=first, max={"last_event_at": moment}))
    return found


# -- the view rules read ---------------------------------------------------------------


@dataclass(frozen=True)
class Bid:
    made_at: datetime | None
    answered_at: datetime | None
    response: str | None


@dataclass(frozen=True)
class Assessment:
    at: datetime
    band: str
    shared: bool


@dataclass
class View:
    """Everything the rules may read about one relationship, at one instant."""

    relationship_id: str
    now: datetime
    members: list[str]
    first_day: date | None
    days: dict[date, dict[str, float]]
    member_days: dict[str, dict[date, dict[str, float]]]
    bids: list[Bid]
    assessments: dict[str, Assessment]

    @property
    def today(self) -> date:
        return self.now.astimezone(UTC).date()

    def total(self, name: str, days: int, end_offset: int = 0) -> float:
        """Sum of a counter over `days` days ending `end_offset` days before today."""
        last = self.today - timedelta(days=end_offset)
        return sum(self.days.get(last - timedelta(days=i), {}).get(name, 0) for i in range(days))

    def member_total(self, member: str, name: str, days: int) -> float:
        mine = self.member_days.get(member, {})
        return sum(mine.get(self.today - timedelta(days=i), {}).get(name, 0) for i in range(days))

    def prefixed(self, prefix: str, days: int) -> dict[str, float]:
        """Counters named <prefix><id>, summed per id over the window."""
        totals: dict[str, float] = {}
        for i in range(days):
            for name, value in self.days.get(self.today - timedelta(days=i), {}).items():
                if name.startswith(prefix):
                    key = name[len(prefix) :]
                    totals[key] = totals.get(key, 0) + value
        return totals


HISTORY_DAYS = 7 * 10  # the longest window any rule reads (affection drop: 2 + 8 weeks)


def _counters(document: dict[str, Any]) -> dict[str, float]:
    skip = {"_id", "relationship_id", "member_id", "day"}
    return {k: v for k, v in document.items() if k not in skip and isinstance(v, int | float)}


def build_view(
    relationship_id: str,
    now: datetime,
    members: list[str],
    relationship: dict[str, Any] | None,
    days: list[dict[str, Any]],
    member_days: list[dict[str, Any]],
    bids: list[dict[str, Any]],
    assessments: list[dict[str, Any]],
) -> View:
    """The view from aggregate documents (as stored, or as a test keeps them in memory)."""
    by_member: dict[str, dict[date, dict[str, float]]] = {}
    for d in member_days:
        by_member.setdefault(d["member_id"], {})[date.fromisoformat(d["day"])] = _counters(d)
    latest: dict[str, Assessment] = {}
    for a in sorted(assessments, key=lambda a: a["at"], reverse=True):
        latest.setdefault(a["member_id"], Assessment(a["at"], a["band"], a.get("shared", False)))
    unique = {
        b["_id"]: Bid(b.get("made_at"), b.get("answered_at"), b.get("response")) for b in bids
    }
    for answer in (relationship or {}).get(ANSWERS, []):
        unique.setdefault(answer["bid"], Bid(None, answer["at"], answer["response"]))
    first = relationship.get("first_day") if relationship else None
    return View(
        relationship_id=relationship_id,
        now=now,
        members=members,
        first_day=date.fromisoformat(first) if first else None,
        days={date.fromisoformat(d["day"]): _counters(d) for d in days},
        member_days=by_member,
        bids=list(unique.values()),
        assessments=latest,
    )
