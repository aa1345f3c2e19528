"""Whatever order events arrive in, and however often: the same aggregates, the same flags."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.insights import evaluation
from services.insights.domain import (
    ANSWER_ORDER,
    KEEP_ANSWERS,
    Contribution,
    build_view,
    contributions,
)
from services.insights.evaluation import State
from services.insights.settings import Rules
from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData, new_event
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
from tests.unit.insights.views import NOW

MEMBERS = ["a", "b"]
Store = dict[str, dict[str, dict[str, Any]]]


def apply(store: Store, found: list[Contribution]) -> None:
    """The same semantics as the MongoDB update: setOnInsert, inc, set, min, max."""
    for c in found:
        doc = store.setdefault(c.collection, {}).setdefault(c.key, {"_id": c.key, **c.on_insert})
        for name, value in c.inc.items():
            doc[name] = doc.get(name, 0) + value
        doc.update(c.set)
        for name, value in c.min.items():
            doc[name] = min(doc.get(name, value), value)
        for name, value in c.max.items():
            doc[name] = max(doc.get(name, value), value)
        for name, entry in c.push.items():
            kept = sorted(
                [*doc.get(name, []), entry], key=lambda e: tuple(e[k] for k in ANSWER_ORDER)
            )
            doc[name] = kept[-KEEP_ANSWERS:]


def outcome(events: list[DecodedEvent]) -> tuple[Store, dict[str, Any], dict[str, Any]]:
    store: Store = {}
    applied: set[str] = set()
    for event in events:
        if event.id in applied:  # what apply_once does with the event id
            continue
        applied.add(event.id)
        apply(store, contributions(event))
    view = build_view(
        "r1", NOW, MEMBERS, store.get("relationships", {}).get("r1"),
        list(store.get("days", {}).values()), list(store.get("member_days", {}).values()),
        list(store.get("bids", {}).values()), list(store.get("assessments", {}).values()),
        list(store.get("conflict_reports", {}).values()),
        list(store.get("occurrences", {}).values()), list(store.get("rituals", {}).values()),
    )  # fmt: skip
    state, _ = evaluation.evaluate(view, State(), Rules())
    flags = {k: v["evidence"] for k, v in state.flags.items()}
    return store, flags, state.health


def wrap(data: EventData, actor: str, shared: bool) -> DecodedEvent:
    envelope = new_event(
        data, relationship_id="r1", actor_id=actor,
        visibility=Visibility.SHARED if shared else Visibility.PRIVATE, time=NOW,
    )  # fmt: skip
    return DecodedEvent(envelope, data)


when = st.integers(min_value=0, max_value=80 * 24).map(lambda h: NOW - timedelta(hours=h))
member = st.sampled_from(MEMBERS)
ids = st.uuids().map(lambda u: u.hex)  # entity ids are unique; duplicates come from redelivery


@st.composite
def bid_events(draw: st.DrawFn) -> list[DecodedEvent]:
    made_at, bid_id = draw(when), draw(ids)
    made = BidMade(bid_id=bid_id, from_member_id="a", to_member_id="b", kind="humor",
                   channel="call", occurred_at=made_at)  # fmt: skip
    events = [wrap(made, "a", True)]
    if draw(st.booleans()):
        answer = BidAnswered(
            bid_id=bid_id, from_member_id="a", to_member_id="b",
            response=draw(st.sampled_from(["toward", "away", "against"])), made_at=made_at,
            occurred_at=made_at + timedelta(hours=draw(st.integers(0, 48))),
        )  # fmt: skip
        events.append(wrap(answer, "b", True))
    return events


@st.composite
def one_event(draw: st.DrawFn) -> list[DecodedEvent]:
    at, who, shared, n = draw(when), draw(member), draw(st.booleans()), draw(ids)
    kind = draw(st.integers(0, 9))
    data: EventData
    if kind == 0:
        return draw(bid_events())
    if kind == 1:
        data = CheckinLogged(
            checkin_id=n, author_id=who, occurred_at=at, mood=3,
            connection=draw(st.integers(1, 10)),
            pillars={"emotional": draw(st.integers(1, 5))},
            signals={"held_back": draw(st.booleans()), "confided_elsewhere": draw(st.booleans())},
            note=draw(st.sampled_from([None, "a sealed note"])), criticism=draw(st.booleans()),
        )  # fmt: skip
    elif kind == 2:
        data = TouchLogged(touch_id=n, author_id=who, kind="hug", sexual=draw(st.booleans()),
                           occurred_at=at)  # fmt: skip
    elif kind == 3:
        data = ConflictLogged(
            conflict_id=n, author_id=who, topic="t", intensity=draw(st.integers(1, 5)),
            shut_down=draw(st.booleans()), sarcasm_or_contempt=draw(st.booleans()),
            avoided_eye_contact=draw(st.booleans()), occurred_at=at,
        )  # fmt: skip
    elif kind == 4 and draw(st.booleans()):
        data = ConflictPerspectiveAdded(
            conflict_id=n, author_id=who,  # once per member and conflict, as checkin enforces
            intensity=draw(st.integers(1, 5)), sarcasm_or_contempt=draw(st.booleans()),
            conflict_occurred_at=at, occurred_at=at,
        )  # fmt: skip
    elif kind == 4:
        felt = draw(st.sampled_from(["connected", "relieved"]))
        data = RepairLogged(repair_id=n, conflict_id="c", author_id=who, felt=felt, occurred_at=at)
    elif kind == 5:
        data = TimeLogged(time_log_id=n, author_id=who, date=at.date(),
                          screen_minutes=draw(st.integers(0, 600)),
                          face_to_face_minutes=draw(st.integers(0, 300)))  # fmt: skip
    elif kind == 6:
        data = BoundaryBreached(breach_id=n, boundary_id=draw(st.sampled_from(["p", "q"])),
                                reported_by=who, occurred_at=at)  # fmt: skip
    elif kind == 7:
        data = RitualCompleted(ritual_id="r", occurrence=at, member_id=who, occurred_at=at)
    elif kind == 8 and draw(st.booleans()):
        data = RitualMissed(ritual_id="r", occurrence=at)
    elif kind == 8:
        data = RitualSkipped(ritual_id="r", occurrence=at, member_id=who, occurred_at=at)
    else:
        yes = draw(st.integers(0, 10))
        band = "strong" if yes >= 9 else "room_to_grow" if yes >= 5 else "needs_conversation"
        data = AssessmentCompleted(
            assessment_id=n, member_id=who, answers=[True] * yes + [False] * (10 - yes),
            score=yes, band=band, occurred_at=at,
        )  # fmt: skip
    return [wrap(data, who, shared)]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(one_event(), min_size=1, max_size=60).map(
        lambda groups: [e for g in groups for e in g]
    ),
    st.randoms(use_true_random=False),
)
def test_shuffled_and_duplicated_events_converge_to_the_same_state_and_flags(events, rng):
    reordered = copy.copy(events) + rng.sample(events, k=len(events) // 2)  # with duplicates
    rng.shuffle(reordered)
    assert outcome(reordered) == outcome(events)
