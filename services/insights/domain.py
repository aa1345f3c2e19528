"""What each event contributes to the aggregates, and the view rules read.

Each event type the rules use has one function saying what such an event contributes;
CONTRIBUTIONS lists them by event model, and `contributions()` looks an event up there.

Every contribution is commutative and keyed (counters added, first/last by
min/max, facts of one bid set by the one event that knows them), so the
aggregates end the same whatever order events arrive in; applying each event
once is the consumer's job (its id is the key). Relationship-level counters take
shared entries only, so no member can infer another's private entries; a
member's own counters (self-reports, streaks, needs) take everything they logged.

Days are local: a member's own counters fall on that member's calendar day, the
relationship's counters on the day in the relationship's zone (its earliest
member's), both as known when the event is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData
from shared.messages.checkin import (
    AssessmentCompleted,
    BidAnswered,
    BidMade,
    BoundaryBreached,
    CheckinLogged,
    ConflictLogged,
    ConflictPerspectiveAdded,
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
BREACH_BY_PREFIX = "breach_by__"  # breach_by__<boundary id>:<reporter>, for the flag's basis
NEED_PREFIX = "need__"  # a member's own: need__<need>
CONFLICT_REPORTS = "conflict_reports"  # one per conflict and member: the author's or a perspective
OCCURRENCES = "occurrences"  # one per ritual occurrence: completed / skipped / missed
RITUALS = "rituals"  # a ritual whose outcomes members record at all
ZONES = "zones"  # member id -> IANA time zone, from the gateway's member events
TOUCH_PAIR_PREFIX = "touch_pair__"  # non-sexual touch per member pair: touch_pair__<a>~<b>


def touch_pair(author: str, partner: str) -> str:
    first, second = sorted((author, partner))
    return f"{TOUCH_PAIR_PREFIX}{first}~{second}"


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


def evaluation_request(relationship_id: str, at: datetime) -> Contribution:
    """Ask for the relationship's evaluation no later than `at` (an earlier request stays)."""
    return Contribution(RELATIONSHIPS, relationship_id, min={"next_eval_at": at})


def day_of(moment: datetime, zone: tzinfo = UTC) -> date:
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Zones:
    """The time zones days are counted in: each member's own, and the relationship's."""

    members: dict[str, str] = field(default_factory=dict)
    relationship: str = "UTC"

    def of(self, member: str) -> tzinfo:
        return _zone(self.members.get(member, "UTC"))

    @property
    def shared(self) -> tzinfo:
        return _zone(self.relationship)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # an unknown zone counts in UTC rather than fail
        return UTC


def relationship_zone(
    members: list[str],
    creator: str | None,
    zones: Mapping[str, str],
    joined: Mapping[str, int] | None = None,
) -> str:
    """The zone relationship-wide days follow: its earliest member's with a known zone.

    Earliest: the creator while a member, then the others in the order they joined (the
    membership version of their joining); a member whose joining predates these records
    counts as early, and ties go by id. UTC when no member's zone is known yet."""
    joined = joined or {}
    ordered = sorted(members, key=lambda m: (m != creator, joined.get(m, 0), m))
    return next((zones[m] for m in ordered if m in zones), "UTC")


def _day(rid: str, when: date, **inc: float) -> Contribution:
    return Contribution(DAYS, f"{rid}:{when.isoformat()}",
                        {"relationship_id": rid, "day": when.isoformat()}, inc)  # fmt: skip


def _member_day(rid: str, member: str, when: date, **inc: float) -> Contribution:
    return Contribution(
        MEMBER_DAYS, f"{rid}:{member}:{when.isoformat()}",
        {"relationship_id": rid, "member_id": member, "day": when.isoformat()}, inc,
    )  # fmt: skip


def _report(rid: str, conflict: str, member: str, at: datetime, data: Any) -> Contribution:
    return Contribution(CONFLICT_REPORTS, f"{conflict}:{member}", {
        "relationship_id": rid, "conflict_id": conflict, "member_id": member, "at": at,
    }, set={
        "intensity": data.intensity, "shut_down": data.shut_down,
        "sarcasm_or_contempt": data.sarcasm_or_contempt,
        "avoided_eye_contact": data.avoided_eye_contact,
    })  # fmt: skip


def _occurrence(rid: str, ritual: str, occurrence: datetime, outcome: str) -> Contribution:
    at = occurrence.astimezone(UTC)
    return Contribution(OCCURRENCES, f"{ritual}:{at.isoformat()}",
                        {"relationship_id": rid, "ritual_id": ritual, "at": at},
                        set={outcome: True})  # fmt: skip


@dataclass(frozen=True)
class Landing:
    """Where an event lands: its relationship, whether its entry is shared, whose days count."""

    relationship_id: str
    shared: bool
    zones: Zones

    def day(self, moment: datetime) -> date:
        """The relationship's day of a moment: relationship-wide counters fall on it."""
        return day_of(moment, self.zones.shared)


def _checkin_logged(data: CheckinLogged, at: Landing) -> list[Contribution]:
    rid = at.relationship_id
    member = _member_day(
        rid, data.author_id, day_of(data.occurred_at, at.zones.of(data.author_id)), checkins=1
    )
    signals = data.signals
    if signals and signals.held_back:
        member.inc["held_back"] = 1
    if signals and signals.confided_elsewhere:
        member.inc["confided_elsewhere"] = 1
    if at.shared and data.criticism:  # judged by the checkin service, which can read the note
        member.inc["criticism_notes"] = 1
    for need in data.needs:  # the author's own pattern, private or not
        name = f"{NEED_PREFIX}{need.value}"
        member.inc[name] = member.inc.get(name, 0) + 1
    found = [member]
    if at.shared:
        counters: dict[str, float] = {"checkins": 1, "connection_sum": data.connection}
        for pillar, score in (data.pillars.model_dump() if data.pillars else {}).items():
            if score is not None:
                counters[f"{pillar}_sum"] = score
                counters[f"{pillar}_n"] = 1
        if data.gratitude:
            counters["gratitude_shared"] = 1
        found.append(_day(rid, at.day(data.occurred_at), **counters))
        if data.mood == 1:
            found.append(Contribution(RELATIONSHIPS, rid, max={"hard_moment_at": data.occurred_at}))
    return found


def _bid_made(data: BidMade, at: Landing) -> list[Contribution]:
    # A bid is ordinary life, not an exercise: it never counts towards burnout.
    rid = at.relationship_id
    return [
        Contribution(
            BIDS, data.bid_id, {"relationship_id": rid}, set={"made_at": data.occurred_at}
        ),
        _day(rid, at.day(data.occurred_at), bids_made=1),
    ]


def _bid_answered(data: BidAnswered, at: Landing) -> list[Contribution]:
    rid, response = at.relationship_id, data.response.value
    answer = {"at": data.occurred_at, "bid": data.bid_id, "response": response}
    return [
        Contribution(BIDS, data.bid_id, {"relationship_id": rid},
                     set={"made_at": data.made_at, "answered_at": data.occurred_at,
                          "response": response}),
        Contribution(RELATIONSHIPS, rid, push={ANSWERS: answer}),
    ]  # fmt: skip


def _touch_logged(data: TouchLogged, at: Landing) -> list[Contribution]:
    if not at.shared or data.sexual:
        return []
    counters = {"touch_nonsexual": 1.0}
    if data.with_member_id:  # with whom: affection is also read per pair of members
        counters[touch_pair(data.author_id, data.with_member_id)] = 1
    return [_day(at.relationship_id, at.day(data.occurred_at), **counters)]


def _time_logged(data: TimeLogged, at: Landing) -> list[Contribution]:
    if not at.shared:
        return []
    return [_day(at.relationship_id, data.date, screen_minutes=data.screen_minutes,
                 face_to_face_minutes=data.face_to_face_minutes, time_logs=1)]  # fmt: skip


def _boundary_breached(data: BoundaryBreached, at: Landing) -> list[Contribution]:
    return [_day(at.relationship_id, at.day(data.occurred_at), **{
        f"{BREACH_PREFIX}{data.boundary_id}": 1,
        f"{BREACH_BY_PREFIX}{data.boundary_id}:{data.reported_by}": 1,
    })]  # fmt: skip


def _conflict_report(
    data: ConflictLogged | ConflictPerspectiveAdded, conflict_at: datetime, at: Landing
) -> list[Contribution]:
    # Rules count conflicts, not reports: each member's view is one report of the conflict.
    if not at.shared:
        return []
    rid = at.relationship_id
    found = [
        _report(rid, data.conflict_id, data.author_id, conflict_at, data),
        _day(rid, at.day(data.occurred_at), conflict_reports=1,
             conflict_overwhelming=int(data.intensity >= 4)),
    ]  # fmt: skip
    if data.intensity >= 4:
        found.append(Contribution(RELATIONSHIPS, rid, max={"hard_moment_at": data.occurred_at}))
    return found


def _conflict_logged(data: ConflictLogged, at: Landing) -> list[Contribution]:
    return _conflict_report(data, data.occurred_at, at)


def _perspective_added(data: ConflictPerspectiveAdded, at: Landing) -> list[Contribution]:
    return _conflict_report(data, data.conflict_occurred_at, at)


def _repair_logged(data: RepairLogged, at: Landing) -> list[Contribution]:
    if not at.shared:
        return []
    return [_day(at.relationship_id, at.day(data.occurred_at), **{f"repair_{data.felt.value}": 1})]


def _assessment_completed(data: AssessmentCompleted, at: Landing) -> list[Contribution]:
    rid = at.relationship_id
    found = [Contribution(
        ASSESSMENTS, data.assessment_id, {"relationship_id": rid, "member_id": data.member_id},
        set={"at": data.occurred_at, "band": data.band.value, "shared": at.shared},
    )]  # fmt: skip
    if at.shared:  # a private assessment is no evidence the partner may see (burnout)
        found.append(_day(rid, at.day(data.occurred_at), exercises=1))
    return found


def _records_outcomes(rid: str, ritual: str) -> Contribution:
    return Contribution(RITUALS, ritual, {"relationship_id": rid}, set={"records_outcomes": True})


def _ritual_completed(data: RitualCompleted, at: Landing) -> list[Contribution]:
    # A late completion replaces "missed": the occurrence is one document, completed wins,
    # so one member's completion keeps it whoever else skipped (rules/rituals.py).
    rid = at.relationship_id
    return [
        _occurrence(rid, data.ritual_id, data.occurrence, "completed"),
        _records_outcomes(rid, data.ritual_id),
        _day(rid, at.day(data.occurred_at), rituals_completed=1, exercises=1),
    ]


def _ritual_skipped(data: RitualSkipped, at: Landing) -> list[Contribution]:
    rid = at.relationship_id
    return [
        _occurrence(rid, data.ritual_id, data.occurrence, "skipped"),
        _records_outcomes(rid, data.ritual_id),
    ]


def _ritual_missed(data: RitualMissed, at: Landing) -> list[Contribution]:
    return [_occurrence(at.relationship_id, data.ritual_id, data.occurrence, "missed")]


Contributes = Callable[[Any, Landing], list[Contribution]]
"""An event type's contributions: its data (of that type) and where it landed."""

CONTRIBUTIONS: dict[type[EventData], Contributes] = {
    CheckinLogged: _checkin_logged,
    BidMade: _bid_made,
    BidAnswered: _bid_answered,
    TouchLogged: _touch_logged,
    TimeLogged: _time_logged,
    BoundaryBreached: _boundary_breached,
    ConflictLogged: _conflict_logged,
    ConflictPerspectiveAdded: _perspective_added,
    RepairLogged: _repair_logged,
    AssessmentCompleted: _assessment_completed,
    RitualCompleted: _ritual_completed,
    RitualSkipped: _ritual_skipped,
    RitualMissed: _ritual_missed,
}
"""Every event type the rules use (exact type), and what one such event contributes."""


def _happened_at(event: DecodedEvent) -> datetime:
    """When an event's fact happened: its `occurred_at`; a missed ritual's occurrence; else
    (a time log carries only a date) when the event was published."""
    moment: datetime | None = getattr(event.data, "occurred_at", None) or getattr(
        event.data, "occurrence", None
    )
    return moment or event.envelope.time


def contributions(event: DecodedEvent, zones: Zones | None = None) -> list[Contribution]:
    """The increments one event makes; [] for events the rules do not use."""
    rid, contribute = event.envelope.relationship_id, CONTRIBUTIONS.get(type(event.data))
    if rid is None or contribute is None:
        return []
    at = Landing(rid, event.envelope.visibility is Visibility.SHARED, zones or Zones())
    found = contribute(event.data, at)
    if found and at.shared:
        # A private entry never sets when the relationship's history starts (which gates
        # affection_drop) nor its last activity.
        moment = _happened_at(event)
        first = {"first_day": at.day(moment).isoformat()}
        found.append(Contribution(RELATIONSHIPS, rid, min=first, max={"last_event_at": moment}))
    return found


def contributes(event: DecodedEvent) -> bool:
    """Whether the event changes any aggregate (its days' zones do not matter for that)."""
    return bool(contributions(event))


def exercise_done(rid: str, today: date) -> list[Contribution]:
    """A recommendation a member marked done: a deliberate exercise on that day."""
    return [_day(rid, today, exercises=1, recommendations_done=1)]


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


@dataclass(frozen=True)
class Report:
    """One member's account of one conflict (the author's, or a perspective)."""

    member_id: str
    intensity: int
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False


@dataclass(frozen=True)
class ConflictSeen:
    conflict_id: str
    at: datetime
    reports: tuple[Report, ...]


@dataclass(frozen=True)
class Occurrence:
    ritual_id: str
    at: datetime
    completed: bool = False
    skipped: bool = False
    missed: bool = False


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
    conflicts: list[ConflictSeen] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    rituals_with_outcomes: frozenset[str] = frozenset()
    zones: Zones = field(default_factory=Zones)
    hard_moment_at: datetime | None = None

    @property
    def today(self) -> date:
        """Today in the relationship's zone: the day relationship-wide windows end."""
        return self.now.astimezone(self.zones.shared).date()

    def member_today(self, member: str) -> date:
        return self.now.astimezone(self.zones.of(member)).date()

    def total(self, name: str, days: int, end_offset: int = 0) -> float:
        """Sum of a counter over `days` days ending `end_offset` days before today."""
        last = self.today - timedelta(days=end_offset)
        return sum(self.days.get(last - timedelta(days=i), {}).get(name, 0) for i in range(days))

    def member_total(self, member: str, name: str, days: int) -> float:
        mine, today = self.member_days.get(member, {}), self.member_today(member)
        return sum(mine.get(today - timedelta(days=i), {}).get(name, 0) for i in range(days))

    def member_prefixed(self, member: str, prefix: str, days: int) -> dict[str, float]:
        mine, today = self.member_days.get(member, {}), self.member_today(member)
        return _prefixed([mine.get(today - timedelta(days=i), {}) for i in range(days)], prefix)

    def prefixed(self, prefix: str, days: int) -> dict[str, float]:
        """Counters named <prefix><id>, summed per id over the window."""
        return _prefixed(
            [self.days.get(self.today - timedelta(days=i), {}) for i in range(days)], prefix
        )

    def conflicts_within(self, days: int) -> list[ConflictSeen]:
        since = self.now - timedelta(days=days)
        return [c for c in self.conflicts if c.at >= since]


def _prefixed(days: list[dict[str, float]], prefix: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for counters in days:
        for name, value in counters.items():
            if name.startswith(prefix):
                key = name[len(prefix) :]
                totals[key] = totals.get(key, 0) + value
    return totals


HISTORY_DAYS = 7 * 10  # the longest window any rule reads (affection drop: 2 + 8 weeks)


def _counters(document: dict[str, Any]) -> dict[str, float]:
    skip = {"_id", "relationship_id", "member_id", "day"}
    return {
        k: v for k, v in document.items()
        if k not in skip and isinstance(v, int | float) and not isinstance(v, bool)
    }  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_view(
    relationship_id: str,
    now: datetime,
    members: list[str],
    relationship: dict[str, Any] | None,
    days: list[dict[str, Any]],
    member_days: list[dict[str, Any]],
    bids: list[dict[str, Any]],
    assessments: list[dict[str, Any]],
    conflict_reports: Sequence[dict[str, Any]] = (),
    occurrences: Sequence[dict[str, Any]] = (),
    rituals: Sequence[dict[str, Any]] = (),
    zones: Zones | None = None,
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
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in conflict_reports:
        grouped.setdefault(r["conflict_id"], []).append(r)
    conflicts = [
        ConflictSeen(cid, _aware(min(r["at"] for r in reports)), tuple(
            Report(r["member_id"], r.get("intensity", 0), r.get("shut_down", False),
                   r.get("sarcasm_or_contempt", False), r.get("avoided_eye_contact", False))
            for r in sorted(reports, key=lambda r: r["member_id"])
        ))
        for cid, reports in sorted(grouped.items())
    ]  # fmt: skip
    seen = [
        Occurrence(o["ritual_id"], _aware(o["at"]), o.get("completed", False),
                   o.get("skipped", False), o.get("missed", False))
        for o in occurrences
    ]  # fmt: skip
    first = relationship.get("first_day") if relationship else None
    hard = relationship.get("hard_moment_at") if relationship else None
    return View(
        relationship_id=relationship_id,
        now=now,
        members=members,
        first_day=date.fromisoformat(first) if first else None,
        days={date.fromisoformat(d["day"]): _counters(d) for d in days},
        member_days=by_member,
        bids=list(unique.values()),
        assessments=latest,
        conflicts=conflicts,
        occurrences=seen,
        rituals_with_outcomes=frozenset(r["_id"] for r in rituals if r.get("records_outcomes")),
        zones=zones or Zones(),
        hard_moment_at=_aware(hard) if hard else None,
    )
