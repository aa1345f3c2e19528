"""Every rule at, just below and just above its threshold, with baselines and clearing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.insights.domain import Bid, ConflictSeen, Report
from services.insights.rules import (
    affection,
    bids,
    boundaries,
    burnout,
    conflicts,
    rituals,
    screens,
    self_reports,
)
from services.insights.settings import Rules
from tests.unit.insights.views import NOW, answered, conflict, occurrence, spread, view

RULES = Rules()


def holds(module, v, code: str) -> bool:
    return any(f.code.value == code for rule in module.RULES for f in rule.evaluate(v, RULES))


@pytest.mark.parametrize(("toward", "expected"), [(9, True), (10, False), (11, False)])
def test_bids_turned_away_below_half_of_the_last_twenty(toward, expected):
    v = view(bids=answered(["toward"] * toward + ["away"] * (20 - toward)))
    assert holds(bids, v, "bids_turned_away") is expected


def test_only_the_last_twenty_answers_count_and_a_few_answers_say_nothing():
    old_away = answered(["toward"] * 12 + ["away"] * 8 + ["away"] * 30)  # newest first
    assert not holds(bids, view(bids=old_away), "bids_turned_away")
    assert not holds(bids, view(bids=answered(["away"] * 9)), "bids_turned_away")


def open_bid(hours_ago: float, answered_after: float | None = None) -> Bid:
    made = NOW - timedelta(hours=hours_ago)
    return Bid(
        made, None if answered_after is None else made + timedelta(hours=answered_after), None
    )


@pytest.mark.parametrize(("count", "expected"), [(4, False), (5, True), (6, True)])
def test_unanswered_bids_five_left_open_over_a_day_in_fourteen_days(count, expected):
    late = [open_bid(30 + i) for i in range(count)]
    noise = [open_bid(10), open_bid(48, answered_after=2), open_bid(24 * 15)]
    assert holds(bids, view(bids=late + noise), "unanswered_bids") is expected


def test_a_bid_answered_after_more_than_a_day_counts_as_left_open():
    late_answers = [open_bid(60 + i, answered_after=25) for i in range(5)]
    assert holds(bids, view(bids=late_answers), "unanswered_bids")


@pytest.mark.parametrize(
    ("code", "mark", "threshold"),
    [
        ("stonewalling", "shut_down", 3),
        ("contempt", "sarcasm_or_contempt", 2),
        ("eye_contact_avoidance", "avoided_eye_contact", 3),
    ],
)
def test_conflict_patterns_within_thirty_days(code, mark, threshold):
    def marked(days_ago: float) -> ConflictSeen:
        return conflict(days_ago, Report("a", 3, **{mark: True}))

    for count, expected in ((threshold - 1, False), (threshold, True), (threshold + 1, True)):
        v = view(conflicts=[marked(i) for i in range(count)])
        assert holds(conflicts, v, code) is expected, (code, count)
    outside = view(conflicts=[marked(29.5)] * (threshold - 1) + [marked(30.5)] * 5)
    assert not holds(conflicts, outside, code)  # the window has moved on: it clears


def test_relief_not_connection_three_repairs_in_thirty_days():
    for count, expected in ((2, False), (3, True)):
        v = view(days={i: {"repair_relieved": 1} for i in range(count)})
        assert holds(conflicts, v, "relief_not_connection") is expected
    assert not holds(conflicts, view(days={30: {"repair_relieved": 5}}), "relief_not_connection")


def touches(recent: float, baseline: float) -> dict[int, dict[str, float]]:
    return {
        **spread("touch_nonsexual", baseline, 14, 69),
        **spread("touch_nonsexual", recent, 0, 13),
    }


@pytest.mark.parametrize(("recent", "expected"), [(0.9, True), (1.0, False), (1.1, False)])
def test_affection_drop_below_half_of_the_relationships_own_baseline(recent, expected):
    v = view(days=touches(recent, 2.0), first_day_ago=69)
    assert holds(affection, v, "affection_drop") is expected


def test_affection_drop_needs_four_weeks_of_history_first():
    # Days 0-13 are the recent window; days 14-40 are 27 days of baseline: one short of four weeks.
    short = view(days=touches(0.0, 2.0), first_day_ago=40)
    assert not holds(affection, short, "affection_drop")
    enough = view(days=touches(0.0, 2.0), first_day_ago=41)
    assert holds(affection, enough, "affection_drop")


@pytest.mark.parametrize(
    ("kept", "skipped", "expected"),
    [(2, 2, True), (3, 2, False), (1, 3, True), (1, 2, False)],  # 1+2 = 3 occurrences: too few
)
def test_avoiding_time_together_half_or_more_skipped_over_four_weeks(kept, skipped, expected):
    seen = [occurrence(i + 1, completed=True) for i in range(kept)]
    seen += [occurrence(i + 10, skipped=True) for i in range(skipped)]
    v = view(occurrences=seen, rituals_with_outcomes=frozenset({"walk"}))
    assert holds(rituals, v, "avoiding_time_together") is expected


def test_missed_occurrences_count_as_not_kept_where_outcomes_are_recorded():
    seen = [occurrence(d, completed=True) for d in (1, 8)] + [
        occurrence(d, missed=True) for d in (15, 22)
    ]
    v = view(occurrences=seen, rituals_with_outcomes=frozenset({"walk"}))
    assert holds(rituals, v, "avoiding_time_together")


@pytest.mark.parametrize(
    ("code", "counter"),
    [("withholding", "held_back"), ("confiding_elsewhere", "confided_elsewhere")],
)
def test_self_reports_three_in_fourteen_days_for_that_member_only(code, counter):
    two = view(member_days={"a": {0: {counter: 1}, 5: {counter: 1}}})
    three = view(member_days={"a": {0: {counter: 1}, 5: {counter: 1}, 13: {counter: 1}},
                              "b": {0: {counter: 1}}})  # fmt: skip
    assert not holds(self_reports, two, code)
    found = [
        f for r in self_reports.RULES for f in r.evaluate(three, RULES) if f.code.value == code
    ]
    assert [f.member_id for f in found] == ["a"]
    aged = view(member_days={"a": {0: {counter: 1}, 5: {counter: 1}, 14: {counter: 1}}})
    assert not holds(self_reports, aged, code)


def test_the_same_boundary_three_times_in_fourteen_days():
    spread_out = view(
        days={0: {"breach__x": 1, "breach__y": 1}, 3: {"breach__x": 1, "breach__y": 1}}
    )
    assert not holds(boundaries, spread_out, "boundary_breached_repeatedly")
    third = view(days={0: {"breach__x": 2}, 13: {"breach__x": 1}, 1: {"breach__y": 2}})
    found = boundaries.breached_repeatedly(third, RULES)
    assert found[0].evidence["boundaries"] == {"x": 3}


def weeks(screen: list[float], together: list[float]) -> dict[int, dict[str, float]]:
    """Three weeks, oldest first, each value spread over seven logged days."""
    days: dict[int, dict[str, float]] = {}
    for index, (s, t) in enumerate(zip(screen, together, strict=True)):
        for d in range(7):
            days[(2 - index) * 7 + d] = {"screen_minutes": s / 7, "face_to_face_minutes": t / 7,
                                         "time_logs": 1}  # fmt: skip
    return days


@pytest.mark.parametrize(
    ("screen", "together", "expected"),
    [
        ([1000, 1100, 1200], [500, 450, 410], True),  # ~58.6 min a day
        ([1000, 1100, 1200], [500, 450, 420], False),  # exactly 60 a day
        ([1000, 1100, 1100], [500, 450, 400], False),  # screens not rising every week
        ([1000, 1100, 1200], [500, 500, 400], False),  # together not falling every week
    ],
)
def test_screens_crowding_presence_over_three_weeks(screen, together, expected):
    assert (
        holds(screens, view(days=weeks(screen, together)), "screens_crowding_presence") is expected
    )


def week_of(exercises: float, connection: float, offset: int) -> dict[int, dict[str, float]]:
    return {offset + d: {"exercises": exercises, "checkins": 1, "connection_sum": connection}
            for d in range(7)}  # fmt: skip


@pytest.mark.parametrize(
    ("exercises", "now_connection", "expected"),
    [(2.0, 6, True), (1.9, 6, False), (2.5, 7, False), (3.0, 8, False), (3.0, 6.5, False)],
)
def test_burnout_two_exercises_a_day_while_connection_falls(exercises, now_connection, expected):
    v = view(days={**week_of(1, 7, 7), **week_of(exercises, now_connection, 0)})
    assert holds(burnout, v, "intimacy_burnout") is expected
