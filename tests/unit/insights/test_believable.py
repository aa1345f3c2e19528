"""Insights a couple would believe: each case below once raised a flag, a score or a repeat
that a real couple would reject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.insights import evaluation, starters
from services.insights.domain import Report, Zones, build_view, contributions
from services.insights.evaluation import State
from services.insights.rules import bids, burnout, conflicts, rituals
from services.insights.settings import Rules
from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData, new_event
from shared.messages.checkin import (
    BidAnswered,
    BidMade,
    CheckinLogged,
    ConflictLogged,
    ConflictPerspectiveAdded,
    RitualCompleted,
)
from shared.messages.insights import RecommendationMade
from shared.messages.scheduler import RitualMissed
from shared.messages.vocabulary import Pillar
from tests.unit.insights.test_convergence import Store, apply
from tests.unit.insights.views import NOW, answered, conflict, view

RULES = Rules()


def wrap(data: EventData, actor: str | None, shared: bool = True) -> DecodedEvent:
    envelope = new_event(
        data, relationship_id="r1", actor_id=actor,
        visibility=Visibility.SHARED if shared else Visibility.PRIVATE, time=NOW,
    )  # fmt: skip
    return DecodedEvent(envelope, data)


def view_of(events: list[DecodedEvent], now: datetime = NOW, zones: Zones | None = None) -> Any:
    store: Store = {}
    for event in events:
        apply(store, contributions(event, zones))

    def docs(name: str) -> list[dict[str, Any]]:
        return list(store.get(name, {}).values())

    return build_view(
        "r1", now, ["a", "b"], store.get("relationships", {}).get("r1"), docs("days"),
        docs("member_days"), docs("bids"), docs("assessments"), docs("conflict_reports"),
        docs("occurrences"), docs("rituals"), zones,
    )  # fmt: skip


def flagged(module: Any, v: Any, code: str) -> list[Any]:
    return [f for r in module.RULES for f in r.evaluate(v, RULES) if f.code.value == code]


def test_a_walk_kept_but_recorded_after_its_window_is_not_avoiding_time_together():
    events = []
    for week in range(4):  # the scheduler marks each walk missed; a member records it later
        occurrence = NOW - timedelta(days=7 * week + 2)
        events.append(wrap(RitualMissed(ritual_id="walk", occurrence=occurrence), None))
        events.append(wrap(RitualCompleted(
            ritual_id="walk", occurrence=occurrence.astimezone(UTC), member_id="a",
            occurred_at=occurrence + timedelta(days=1),
        ), "a"))  # fmt: skip
    assert not flagged(rituals, view_of(events), "avoiding_time_together")
    kept, not_kept = rituals.ritual_counts(view_of(events), 28)
    assert (kept, not_kept) == (4, 0)


def test_a_couple_who_never_records_outcomes_has_not_missed_every_ritual():
    events = [
        wrap(RitualMissed(ritual_id="walk", occurrence=NOW - timedelta(days=7 * w + 1)), None)
        for w in range(4)
    ]
    assert not flagged(rituals, view_of(events), "avoiding_time_together")


def test_one_fight_logged_by_both_with_sarcasm_does_not_raise_contempt():
    at = NOW - timedelta(days=1)
    logged = ConflictLogged(conflict_id="c1", author_id="a", topic="t", intensity=3,
                            sarcasm_or_contempt=True, occurred_at=at)  # fmt: skip
    perspective = ConflictPerspectiveAdded(
        conflict_id="c1", author_id="b", intensity=4, sarcasm_or_contempt=True,
        conflict_occurred_at=at, occurred_at=at + timedelta(hours=2),
    )  # fmt: skip
    v = view_of([wrap(logged, "a"), wrap(perspective, "b")])
    assert len(v.conflicts) == 1 and len(v.conflicts[0].reports) == 2
    assert not flagged(conflicts, v, "contempt")


def test_a_flag_from_one_members_reports_says_so_and_only_the_other_may_answer_it():
    sarcastic = [conflict(d, Report("a", 3, sarcasm_or_contempt=True)) for d in (1, 5)]
    [finding] = flagged(conflicts, view(conflicts=sarcastic), "contempt")
    assert finding.basis == "one_member"
    state, _ = evaluation.evaluate(view(conflicts=sarcastic), State(), RULES)
    flag = state.flags["contempt"]
    assert (flag["basis"], flag["title"], flag["rule_version"]) == (
        "one_member", "Sarcasm or contempt in conflicts", 2
    )  # fmt: skip
    assert evaluation.may_answer(flag, "b") and not evaluation.may_answer(flag, "a")
    assert not evaluation.may_answer({**flag, "responses": {"b": {}}}, "b")  # once
    both = [*sarcastic, conflict(2, Report("b", 3, sarcasm_or_contempt=True))]
    [finding] = flagged(conflicts, view(conflicts=both), "contempt")
    assert finding.basis == "both_members"


def test_two_ordinary_bids_a_day_and_a_small_dip_are_not_burnout():
    events = []
    for day in range(14):
        at = NOW - timedelta(days=day, hours=1)
        for n in range(2):
            bid = f"b{day}-{n}"
            made = BidMade(bid_id=bid, from_member_id="a", to_member_id="b", kind="humor",
                           channel="call", occurred_at=at)  # fmt: skip
            events.append(wrap(made, "a"))
            events.append(wrap(BidAnswered(
                bid_id=bid, from_member_id="a", to_member_id="b", response="toward",
                made_at=at, occurred_at=at + timedelta(minutes=5),
            ), "b"))  # fmt: skip
        connection = 7 if day >= 7 or day % 7 else 6  # this week's mean is 0.14 lower
        events.append(wrap(CheckinLogged(checkin_id=f"c{day}", author_id="a", occurred_at=at,
                                         mood=4, connection=connection), "a"))  # fmt: skip
    v = view_of(events)
    assert burnout.mean_connection(v, 7, 7, 0) == 7.0
    assert round(burnout.mean_connection(v, 7, 0, 0) or 0, 2) == 6.86
    assert not flagged(burnout, v, "intimacy_burnout")


def test_bids_turned_away_clears_after_thirty_quiet_days():
    cold = answered(["away"] * 20)
    assert flagged(bids, view(bids=cold), "bids_turned_away")
    v = view(bids=cold)
    v.now = NOW + timedelta(days=30, hours=1)  # a month with no answered bids at all
    assert not flagged(bids, v, "bids_turned_away")


def test_one_checkin_gives_no_score_and_no_trend():
    one = view(days={0: {"checkins": 1, "connection_sum": 2, "emotional_sum": 2,
                         "emotional_n": 1, "physical_sum": 1, "physical_n": 1}},
               )  # fmt: skip
    health = evaluation.health(one, RULES)
    assert [health[p.value] for p in Pillar] == [None, None, None]
    assert health["overall"] is None and health["trend"] == {}
    assert health["sample_size"]["emotional"] == 1 and health["min_sample"] == 3
    three_then_three = view(days={
        **{d: {"emotional_sum": 4, "emotional_n": 1} for d in (0, 1, 2)},
        **{d: {"emotional_sum": 2, "emotional_n": 1} for d in (7, 8)},
    })  # fmt: skip
    health = evaluation.health(three_then_three, RULES)
    assert health["emotional"] == 75.0 and health["trend"] == {}  # the week before: too few


def test_a_utc_minus_eight_members_streak_is_kept_across_utc_midnight():
    pacific = Zones({"a": "America/Los_Angeles"}, "America/Los_Angeles")
    local = [  # 09:00, then 17:00 and 17:00 in Los Angeles: after midnight UTC
        datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
    ]
    events = [
        wrap(CheckinLogged(checkin_id=f"c{i}", author_id="a", occurred_at=at, mood=4,
                           connection=7), "a", shared=False)
        for i, at in enumerate(local)
    ]  # fmt: skip
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 18:00 on the 26th in Los Angeles
    v = view_of(events, now, pacific)
    streak = {s["code"]: s for s in evaluation.strengths(v, "a", RULES)}["checkin_streak"]
    assert streak["days"] == 3


def test_sixty_days_of_starters_never_repeat_inside_a_pillars_pool():
    state, seen, tried = State(), [], []
    for day in range(60):
        v = view()
        v.now = NOW + timedelta(days=day)
        state, _ = evaluation.evaluate(v, state, RULES)  # nothing scored: pillars take turns
        assert state.starter is not None
        assert state.ritual is not None
        seen.append((state.starter["pillar"], state.starter["id"]))
        tried.append((state.ritual["pillar"], state.ritual["id"]))
        state.starter["shown"] = state.ritual["shown"] = True
    for pillar in Pillar:
        mine = [sid for p, sid in seen if p == pillar.value]
        assert len(mine) == 20 and len(set(mine)) == 20, pillar  # the whole pool, no repeat
        rituals_here = [rid for p, rid in tried if p == pillar.value]
        assert len(set(rituals_here[:10])) == 10 and rituals_here[10:] == rituals_here[:10]
    assert all(len(pool) >= 20 for pool in starters.STARTERS.values())
    assert all(len(pool) >= 10 for pool in starters.RITUALS_TO_TRY.values())


def test_a_starter_not_shown_stays_and_deep_ones_wait_after_a_hard_moment():
    state, _ = evaluation.evaluate(view(), State(), RULES)
    first = state.starter
    later = view()
    later.now = NOW + timedelta(days=1)
    state2, out = evaluation.evaluate(later, state, RULES)
    assert state2.starter == first  # nobody saw it: it stays
    assert not [o for o in out if isinstance(o.data, RecommendationMade)]
    hard, state = view(), State()
    for day in range(20):
        hard.now = NOW + timedelta(days=day)
        hard.hard_moment_at = hard.now - timedelta(hours=2)
        state, _ = evaluation.evaluate(hard, state, RULES)
        assert state.starter is not None and not state.starter["deep"]
        state.starter["shown"] = True


def test_needs_named_most_come_back_to_their_author_only_and_shared_thanks_is_a_strength():
    at = NOW - timedelta(hours=3)
    events = [
        wrap(CheckinLogged(checkin_id=f"n{i}", author_id="a", occurred_at=at - timedelta(days=i),
                           mood=3, connection=6, needs=["heard", "rest"] if i < 3 else ["rest"],
                           gratitude="the walk" if i < 3 else None), "a", shared=i < 3)
        for i in range(4)
    ]  # fmt: skip
    v = view_of(events)
    assert evaluation.needs_named(v, "a", RULES) == ["rest", "heard"]
    assert evaluation.needs_named(v, "b", RULES) == []
    state, _ = evaluation.evaluate(v, State(), RULES)
    kinds = {r["kind"]: r for r in evaluation.recommendations(v, state, "a", RULES)}
    assert "rest and heard" in kinds["share_a_need"]["text"]
    # An app translating by text_key gets the needs to name, most named first.
    assert kinds["share_a_need"]["params"] == {"needs": ["rest", "heard"]}
    assert kinds["conversation_starter"]["params"] is None
    assert "share_a_need" not in {
        r["kind"] for r in evaluation.recommendations(v, state, "b", RULES)
    }
    for member in ("a", "b"):  # three shared thanks in two weeks: both see it
        assert "shared_gratitude" in {s["code"] for s in evaluation.strengths(v, member, RULES)}
