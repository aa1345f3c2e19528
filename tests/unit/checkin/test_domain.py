"""The checkin service's rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.checkin import domain
from shared import recurrence
from shared.messages.vocabulary import AssessmentBand
from shared.problems import Conflict, Forbidden, InvalidInput

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AB = frozenset({"a", "b"})
ABC = frozenset({"a", "b", "c"})


def test_occurred_at_defaults_to_now_and_is_bounded():
    assert domain.occurred(None, NOW) == NOW
    assert domain.occurred(NOW + timedelta(minutes=5), NOW) == NOW + timedelta(minutes=5)
    assert domain.occurred(NOW - timedelta(days=400), NOW) == NOW - timedelta(days=400)
    with pytest.raises(InvalidInput, match="future"):
        domain.occurred(NOW + timedelta(minutes=5, seconds=1), NOW)
    with pytest.raises(InvalidInput, match="400 days"):
        domain.occurred(NOW - timedelta(days=400, seconds=1), NOW)


def test_a_bid_goes_to_another_member():
    domain.check_bid_target("a", "b", AB)
    with pytest.raises(InvalidInput):
        domain.check_bid_target("a", "a", AB)
    with pytest.raises(InvalidInput):
        domain.check_bid_target("a", "z", AB)


def test_a_bid_can_only_be_answered_by_its_target_and_only_once():
    open_bid = domain.BidState("a", "b", answered=False)
    domain.check_bid_answer(open_bid, "b")
    with pytest.raises(Forbidden):
        domain.check_bid_answer(open_bid, "a")
    with pytest.raises(Conflict, match="already been answered"):
        domain.check_bid_answer(domain.BidState("a", "b", answered=True), "b")


def test_a_boundary_is_active_only_when_every_current_member_accepted():
    proposed = domain.BoundaryState(frozenset({"a"}), retired=False)
    assert domain.boundary_status(proposed, AB) == "proposed"
    state, activated = domain.accept_boundary(proposed, "b", AB)
    assert activated and domain.boundary_status(state, AB) == "active"


def test_two_of_three_acceptances_stay_proposed():
    state, activated = domain.accept_boundary(
        domain.BoundaryState(frozenset({"a"}), False), "b", ABC
    )
    assert not activated
    assert domain.boundary_status(state, ABC) == "proposed"
    assert domain.awaiting(state, ABC) == ["c"]


def test_a_member_who_joins_later_must_accept_too():
    active_for_two = domain.BoundaryState(AB, retired=False)
    assert domain.boundary_status(active_for_two, AB) == "active"
    assert domain.boundary_status(active_for_two, ABC) == "proposed"
    _, activated = domain.accept_boundary(active_for_two, "c", ABC)
    assert activated


def test_accepting_twice_or_a_retired_boundary_is_a_conflict():
    with pytest.raises(Conflict, match="already accepted"):
        domain.accept_boundary(domain.BoundaryState(frozenset({"a"}), False), "a", AB)
    with pytest.raises(Conflict, match="retired"):
        domain.accept_boundary(domain.BoundaryState(frozenset({"a"}), True), "b", AB)
    with pytest.raises(Conflict, match="retired"):
        domain.retire_boundary(domain.BoundaryState(frozenset({"a"}), True))


def test_a_breach_needs_an_active_boundary():
    domain.check_breach(domain.BoundaryState(AB, False), AB)
    with pytest.raises(Conflict, match="active boundary"):
        domain.check_breach(domain.BoundaryState(frozenset({"a"}), False), AB)
    with pytest.raises(Conflict):
        domain.check_breach(domain.BoundaryState(AB, True), AB)


def test_a_repair_closes_its_conflict_once():
    domain.check_repair(False)
    with pytest.raises(Conflict, match="already repaired"):
        domain.check_repair(True)


@pytest.mark.parametrize(
    ("yes", "band"),
    [
        (10, AssessmentBand.STRONG),
        (9, AssessmentBand.STRONG),
        (8, AssessmentBand.ROOM_TO_GROW),
        (5, AssessmentBand.ROOM_TO_GROW),
        (4, AssessmentBand.NEEDS_CONVERSATION),
        (0, AssessmentBand.NEEDS_CONVERSATION),
    ],
)
def test_assessment_bands(yes: int, band: AssessmentBand):
    assert domain.score_assessment([True] * yes + [False] * (10 - yes)) == (yes, band)


def test_the_assessment_takes_exactly_ten_answers():
    with pytest.raises(InvalidInput, match="ten"):
        domain.score_assessment([True] * 9)


BERLIN_SUNDAY = recurrence.local_start(datetime(2026, 3, 22, 10, 0), "Europe/Berlin")


def test_a_weekly_ritual_stays_at_ten_local_across_the_clock_change():
    rule = "FREQ=WEEKLY;BYDAY=SU"
    before = datetime(2026, 3, 22, 9, 0, tzinfo=UTC)  # 10:00 CET
    after = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert recurrence.is_occurrence(rule, "Europe/Berlin", BERLIN_SUNDAY, before)
    assert recurrence.is_occurrence(rule, "Europe/Berlin", BERLIN_SUNDAY, after)
    assert not recurrence.is_occurrence(
        rule, "Europe/Berlin", BERLIN_SUNDAY, after + timedelta(hours=1)
    )


def test_an_outcome_needs_a_real_past_occurrence_and_only_one():
    rule, tz = "FREQ=WEEKLY;BYDAY=SU", "Europe/Berlin"
    sunday = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    domain.check_outcome(rule, tz, BERLIN_SUNDAY, sunday, NOW, already_recorded=False)
    with pytest.raises(InvalidInput, match="not an occurrence"):
        domain.check_outcome(rule, tz, BERLIN_SUNDAY, sunday + timedelta(days=1), NOW, False)
    with pytest.raises(Conflict, match="already has an outcome"):
        domain.check_outcome(rule, tz, BERLIN_SUNDAY, sunday, NOW, already_recorded=True)
    future = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="not started"):
        domain.check_outcome(rule, tz, BERLIN_SUNDAY, future, NOW, False)


@pytest.mark.parametrize(
    "rule",
    ["FREQ=HOURLY", "not a rule", "DTSTART:20260101T000000\nFREQ=DAILY", "FREQ=DAILY;COUNT=0"],
)
def test_unusable_rules_are_refused(rule: str):
    with pytest.raises(InvalidInput):
        recurrence.parse_rule(rule, BERLIN_SUNDAY)


def test_an_aware_start_is_read_in_the_ritual_zone():
    start = datetime(2026, 3, 22, 9, 0, tzinfo=UTC)
    assert recurrence.local_start(start, "Europe/Berlin") == datetime(2026, 3, 22, 10, 0)
