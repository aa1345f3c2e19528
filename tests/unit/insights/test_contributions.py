"""What each event type contributes to the aggregates: one expectation per type, no I/O.

The instant is chosen so the three calendars differ: the author's (Pago Pago, UTC-11) day is the
14th, UTC's the 15th, the relationship's (Kiritimati, UTC+14) the 16th. Each member counter must
fall on the author's day, each relationship counter on the relationship's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import get_type_hints

from services.insights.domain import (
    ASSESSMENTS,
    BIDS,
    CONFLICT_REPORTS,
    CONTRIBUTIONS,
    DAYS,
    MEMBER_DAYS,
    OCCURRENCES,
    RELATIONSHIPS,
    RITUALS,
    Contribution,
    Zones,
    contributions,
    relationship_zone,
)
from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData, new_event
from shared.messages.checkin import (
    AssessmentCompleted,
    BidAnswered,
    BidMade,
    BoundaryBreached,
    BoundaryRetired,
    CheckinLogged,
    ConflictLogged,
    ConflictPerspectiveAdded,
    PillarScores,
    RepairLogged,
    RitualCompleted,
    RitualSkipped,
    SelfReportSignals,
    TimeLogged,
    TouchLogged,
)
from shared.messages.scheduler import RitualMissed

AT = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
PUBLISHED = AT + timedelta(hours=1)  # the envelope's time, later than the fact
ZONES = Zones({"a": "Pacific/Pago_Pago"}, "Pacific/Kiritimati")
MEMBER_DAY = "2026-01-14"
SHARED_DAY = "2026-01-16"


def landed(data: EventData, shared: bool = True, relationship_id: str | None = "r1"):
    envelope = new_event(
        data, relationship_id=relationship_id, actor_id="a",
        visibility=Visibility.SHARED if shared else Visibility.PRIVATE, time=PUBLISHED,
    )  # fmt: skip
    return DecodedEvent(envelope, data)


def day(**inc: float) -> Contribution:
    return Contribution(DAYS, f"r1:{SHARED_DAY}", {"relationship_id": "r1", "day": SHARED_DAY},
                        inc)  # fmt: skip


def activity(moment: datetime = AT, first_day: str = SHARED_DAY) -> Contribution:
    """What every shared event that counts adds: the history's start and the last event."""
    return Contribution(RELATIONSHIPS, "r1", min={"first_day": first_day},
                        max={"last_event_at": moment})  # fmt: skip


def checkin(**fields) -> CheckinLogged:
    return CheckinLogged(checkin_id="c1", author_id="a", occurred_at=AT, **fields)


def test_a_shared_checkin_counts_for_its_author_and_the_relationship():
    data = checkin(
        mood=1, connection=5, pillars=PillarScores(emotional=3), gratitude="sealed",
        needs=["heard", "space", "heard"], criticism=True,
        signals=SelfReportSignals(held_back=True, confided_elsewhere=True),
    )  # fmt: skip
    assert contributions(landed(data), ZONES) == [
        Contribution(
            MEMBER_DAYS, f"r1:a:{MEMBER_DAY}",
            {"relationship_id": "r1", "member_id": "a", "day": MEMBER_DAY},
            {"checkins": 1, "held_back": 1, "confided_elsewhere": 1, "criticism_notes": 1,
             "need__heard": 2, "need__space": 1},
        ),
        day(checkins=1, connection_sum=5, emotional_sum=3, emotional_n=1, gratitude_shared=1),
        Contribution(RELATIONSHIPS, "r1", max={"hard_moment_at": AT}),  # a mood of 1
        activity(),
    ]  # fmt: skip


def test_a_private_checkin_counts_for_its_author_only():
    data = checkin(mood=3, connection=5, criticism=True, needs=["rest"])
    assert contributions(landed(data, shared=False), ZONES) == [
        Contribution(
            MEMBER_DAYS, f"r1:a:{MEMBER_DAY}",
            {"relationship_id": "r1", "member_id": "a", "day": MEMBER_DAY},
            {"checkins": 1, "need__rest": 1},
        ),
    ]  # fmt: skip


def test_a_bid_made_and_its_answer():
    made = BidMade(bid_id="b1", from_member_id="a", to_member_id="b", kind="humor",
                   channel="call", occurred_at=AT)  # fmt: skip
    assert contributions(landed(made), ZONES) == [
        Contribution(BIDS, "b1", {"relationship_id": "r1"}, set={"made_at": AT}),
        day(bids_made=1),
        activity(),
    ]
    later = AT + timedelta(hours=2)
    answered = BidAnswered(bid_id="b1", from_member_id="a", to_member_id="b", response="away",
                           made_at=AT, occurred_at=later)  # fmt: skip
    assert contributions(landed(answered), ZONES) == [
        Contribution(BIDS, "b1", {"relationship_id": "r1"},
                     set={"made_at": AT, "answered_at": later, "response": "away"}),
        Contribution(RELATIONSHIPS, "r1",
                     push={"answers": {"at": later, "bid": "b1", "response": "away"}}),
        activity(later),
    ]  # fmt: skip


def test_a_private_bid_counts_but_does_not_move_the_relationships_history():
    made = BidMade(bid_id="b1", from_member_id="a", to_member_id="b", kind="humor",
                   channel="call", occurred_at=AT)  # fmt: skip
    assert contributions(landed(made, shared=False), ZONES) == [
        Contribution(BIDS, "b1", {"relationship_id": "r1"}, set={"made_at": AT}),
        day(bids_made=1),
    ]


def test_shared_non_sexual_touch_counts_per_pair_and_other_touch_not_at_all():
    data = TouchLogged(touch_id="t1", author_id="b", kind="hug", sexual=False,
                       occurred_at=AT, with_member_id="a")  # fmt: skip
    assert contributions(landed(data), ZONES) == [
        day(touch_nonsexual=1, **{"touch_pair__a~b": 1}),
        activity(),
    ]
    alone = data.model_copy(update={"with_member_id": None})
    assert contributions(landed(alone), ZONES) == [day(touch_nonsexual=1), activity()]
    assert contributions(landed(data, shared=False), ZONES) == []
    sexual = data.model_copy(update={"sexual": True})
    assert contributions(landed(sexual), ZONES) == []


def test_time_logged_counts_on_its_own_date_and_dates_activity_by_its_publishing():
    data = TimeLogged(time_log_id="l1", author_id="a", date=date(2026, 1, 10),
                      screen_minutes=90, face_to_face_minutes=30)  # fmt: skip
    assert contributions(landed(data), ZONES) == [
        Contribution(DAYS, "r1:2026-01-10", {"relationship_id": "r1", "day": "2026-01-10"},
                     {"screen_minutes": 90, "face_to_face_minutes": 30, "time_logs": 1}),
        activity(PUBLISHED, first_day=SHARED_DAY),
    ]  # fmt: skip
    assert contributions(landed(data, shared=False), ZONES) == []


def test_a_breach_counts_per_boundary_and_per_reporter_even_when_private():
    data = BoundaryBreached(breach_id="x1", boundary_id="bd1", reported_by="a", occurred_at=AT)
    counters = {"breach__bd1": 1, "breach_by__bd1:a": 1}
    assert contributions(landed(data), ZONES) == [day(**counters), activity()]
    assert contributions(landed(data, shared=False), ZONES) == [day(**counters)]


def test_a_conflict_and_a_perspective_are_one_report_each_of_the_same_conflict():
    logged = ConflictLogged(conflict_id="k1", author_id="a", topic="t", intensity=4,
                            shut_down=True, occurred_at=AT)  # fmt: skip
    report = {"intensity": 4, "shut_down": True, "sarcasm_or_contempt": False,
              "avoided_eye_contact": False}  # fmt: skip
    assert contributions(landed(logged), ZONES) == [
        Contribution(CONFLICT_REPORTS, "k1:a", {"relationship_id": "r1", "conflict_id": "k1",
                                                "member_id": "a", "at": AT}, set=report),
        day(conflict_reports=1, conflict_overwhelming=1),
        Contribution(RELATIONSHIPS, "r1", max={"hard_moment_at": AT}),  # intensity 4 or more
        activity(),
    ]  # fmt: skip
    later = AT + timedelta(hours=3)
    perspective = ConflictPerspectiveAdded(
        conflict_id="k1", author_id="b", intensity=2, sarcasm_or_contempt=True,
        conflict_occurred_at=AT, occurred_at=later,
    )  # fmt: skip
    assert contributions(landed(perspective), ZONES) == [
        Contribution(CONFLICT_REPORTS, "k1:b", {"relationship_id": "r1", "conflict_id": "k1",
                                                "member_id": "b", "at": AT},
                     set={**report, "intensity": 2, "shut_down": False,
                          "sarcasm_or_contempt": True}),
        day(conflict_reports=1, conflict_overwhelming=0),
        activity(later),
    ]  # fmt: skip
    assert contributions(landed(logged, shared=False), ZONES) == []
    assert contributions(landed(perspective, shared=False), ZONES) == []


def test_a_shared_repair_counts_how_it_felt():
    data = RepairLogged(repair_id="p1", conflict_id="k1", author_id="a", felt="relieved",
                        occurred_at=AT)  # fmt: skip
    assert contributions(landed(data), ZONES) == [day(repair_relieved=1), activity()]
    assert contributions(landed(data, shared=False), ZONES) == []


def test_an_assessment_is_kept_and_counts_as_an_exercise_only_when_shared():
    data = AssessmentCompleted(assessment_id="s1", member_id="a", answers=[True] * 10,
                               score=10, band="strong", occurred_at=AT)  # fmt: skip
    kept = Contribution(ASSESSMENTS, "s1", {"relationship_id": "r1", "member_id": "a"},
                        set={"at": AT, "band": "strong", "shared": True})  # fmt: skip
    assert contributions(landed(data), ZONES) == [kept, day(exercises=1), activity()]
    private = Contribution(kept.collection, kept.key, kept.on_insert,
                           set={**kept.set, "shared": False})  # fmt: skip
    assert contributions(landed(data, shared=False), ZONES) == [private]


def test_ritual_outcomes_are_one_document_per_occurrence():
    occurrence = AT - timedelta(hours=5)
    on_insert = {"relationship_id": "r1", "ritual_id": "w1", "at": occurrence}
    records = Contribution(RITUALS, "w1", {"relationship_id": "r1"},
                           set={"records_outcomes": True})  # fmt: skip
    key = f"w1:{occurrence.isoformat()}"
    completed = RitualCompleted(ritual_id="w1", occurrence=occurrence, member_id="a",
                                occurred_at=AT)  # fmt: skip
    assert contributions(landed(completed), ZONES) == [
        Contribution(OCCURRENCES, key, on_insert, set={"completed": True}),
        records,
        day(rituals_completed=1, exercises=1),
        activity(),
    ]
    skipped = RitualSkipped(ritual_id="w1", occurrence=occurrence, member_id="a",
                            occurred_at=AT)  # fmt: skip
    assert contributions(landed(skipped), ZONES) == [
        Contribution(OCCURRENCES, key, on_insert, set={"skipped": True}),
        records,
        activity(),
    ]


def test_a_missed_ritual_dates_the_relationships_activity_by_its_occurrence():
    occurrence = AT - timedelta(days=1)
    missed = RitualMissed(ritual_id="w1", occurrence=occurrence)
    assert contributions(landed(missed), ZONES) == [
        Contribution(OCCURRENCES, f"w1:{occurrence.isoformat()}",
                     {"relationship_id": "r1", "ritual_id": "w1", "at": occurrence},
                     set={"missed": True}),
        activity(occurrence, first_day="2026-01-15"),
    ]  # fmt: skip


def test_events_the_rules_do_not_use_and_events_without_a_relationship_contribute_nothing():
    assert contributions(landed(BoundaryRetired(boundary_id="bd1", retired_by="a")), ZONES) == []
    data = checkin(mood=3, connection=5)
    assert contributions(landed(data, relationship_id=None), ZONES) == []


def test_without_zones_days_are_utc_days():
    data = BidMade(bid_id="b1", from_member_id="a", to_member_id="b", kind="humor",
                   channel="call", occurred_at=AT)  # fmt: skip
    utc_day = Contribution(DAYS, "r1:2026-01-15", {"relationship_id": "r1", "day": "2026-01-15"},
                           {"bids_made": 1})  # fmt: skip
    assert contributions(landed(data))[1:] == [utc_day, activity(first_day="2026-01-15")]


def test_the_table_lists_every_event_the_rules_use_each_with_a_function_for_its_own_type():
    assert set(CONTRIBUTIONS) == {
        CheckinLogged, BidMade, BidAnswered, TouchLogged, TimeLogged, BoundaryBreached,
        ConflictLogged, ConflictPerspectiveAdded, RepairLogged, AssessmentCompleted,
        RitualCompleted, RitualSkipped, RitualMissed,
    }  # fmt: skip
    for event_type, contribute in CONTRIBUTIONS.items():
        assert get_type_hints(contribute)["data"] is event_type, contribute.__name__


def test_relationship_days_follow_the_earliest_member_to_join_not_the_first_by_id():
    zones = {"ana": "Europe/Berlin", "ben": "Asia/Tokyo", "cy": "America/Chicago"}
    joined = {"cy": 1, "ben": 2, "ana": 3}  # cy created it; ben joined before ana
    assert relationship_zone(["ana", "ben", "cy"], "cy", zones, joined) == "America/Chicago"
    # The creator left: the earliest of those who remain is ben, though ana sorts first.
    assert relationship_zone(["ana", "ben"], "cy", zones, joined) == "Asia/Tokyo"
    # ben's zone is not known yet: the next to join.
    assert relationship_zone(["ana", "ben"], "cy", {"ana": "Europe/Berlin"}, joined) == (
        "Europe/Berlin"
    )
    # ben left and came back later (a newer joining): ana is now the earlier.
    assert relationship_zone(["ana", "ben"], None, zones, {"ana": 3, "ben": 5}) == "Europe/Berlin"
    # Joinings from before these were recorded count as early, ties by id; no zone: UTC.
    assert relationship_zone(["ben", "ana"], None, zones, {"ana": 4}) == "Asia/Tokyo"
    assert relationship_zone(["ana", "ben"], None, {}) == "UTC"
