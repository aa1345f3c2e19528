"""What someone other than the author sees: decided in one place, the same for every edge."""

from __future__ import annotations

from datetime import UTC, datetime

from services.insights.domain import RELATIONSHIPS, contributions
from shared import privacy
from shared.envelope import Envelope, Visibility
from shared.messages.base import decode, new_event
from shared.messages.checkin import (
    AssessmentCompleted,
    BidAnswered,
    BoundaryActivated,
    CheckinLogged,
    SelfReportSignals,
)
from shared.messages.gateway import MemberJoined
from shared.messages.vocabulary import AssessmentBand, BidResponse, BoundaryKind
from shared.tombstones import carries_erasure, members_mentioned, members_named

AT = datetime(2026, 11, 20, 8, tzinfo=UTC)


def shared_checkin(visibility: Visibility = Visibility.SHARED) -> Envelope:
    data = CheckinLogged(
        checkin_id="c1", author_id="author", occurred_at=AT, mood=2, connection=4,
        signals=SelfReportSignals(held_back=True, confided_elsewhere=True), criticism=True,
    )  # fmt: skip
    return new_event(data, relationship_id="r1", actor_id="author", visibility=visibility)


def test_a_partner_and_an_integration_see_a_shared_checkin_without_signals_or_criticism():
    envelope = shared_checkin()
    for viewer in ("partner", None):
        seen = privacy.event_for(envelope, viewer)
        assert seen is not None
        assert "signals" not in seen.data and "criticism" not in seen.data
        assert seen.data["mood"] == 2
        # What they are given still reads as a valid event.
        assert decode(seen.to_json()).data.signals is None  # type: ignore[attr-defined]


def test_the_author_sees_their_own_signals_and_no_one_else_sees_a_private_entry():
    shared = shared_checkin()
    assert privacy.event_for(shared, "author") is shared
    private = shared_checkin(Visibility.PRIVATE)
    assert privacy.event_for(private, "partner") is None
    assert privacy.event_for(private, None) is None
    assert privacy.event_for(private, "author") is private


def test_entry_fields_for_a_non_author_drop_the_self_reports():
    fields = {"mood": 2, "signals": {"held_back": True}, "note": "x"}
    assert privacy.entry_fields_for("checkin", "author", "partner", fields) == {
        "mood": 2, "note": "x",
    }  # fmt: skip
    assert privacy.entry_fields_for("checkin", "author", "author", fields) is fields


def test_a_private_assessment_moves_no_relationship_wide_figure():
    data = AssessmentCompleted(assessment_id="a1", member_id="author", answers=[True] * 10,
                               score=10, band=AssessmentBand.STRONG, occurred_at=AT)  # fmt: skip
    private = new_event(data, relationship_id="r1", actor_id="author",
                        visibility=Visibility.PRIVATE)  # fmt: skip
    found = contributions(decode(private.to_json()))
    assert not any(c.inc.get("exercises") for c in found)
    assert not any(c.collection == RELATIONSHIPS for c in found)  # no first day, no last event


def test_a_private_checkin_sets_no_history_start():
    private = shared_checkin(Visibility.PRIVATE)
    found = contributions(decode(private.to_json()))
    assert not any(c.collection == RELATIONSHIPS for c in found)
    assert any(c.inc.get("held_back") for c in found)  # the author's own counter still counts


def test_tombstones_know_whom_an_event_is_about_and_let_endings_through():
    assert members_named(shared_checkin()) == {"author"}
    assert carries_erasure("member.erased") and carries_erasure("checkin.erasure_confirmed")
    assert not carries_erasure("checkin.logged")


def test_an_erasure_reaches_every_event_that_mentions_the_member_but_a_membership_list():
    """What a stream erasure deletes and a webhook delivery is filed under: a partner's answer
    to the member's bid and their acceptance of the member's boundary mention the member too;
    a membership event of someone else keeps its list whole."""
    answered = new_event(BidAnswered(
        bid_id="b1", from_member_id="erased", to_member_id="partner", response=BidResponse.TOWARD,
        made_at=AT, occurred_at=AT,
    ), relationship_id="r1", actor_id="partner")  # fmt: skip
    activated = new_event(BoundaryActivated(
        boundary_id="x1", kind=BoundaryKind.OTHER, accepted_by=["erased", "partner"],
    ), relationship_id="r1", actor_id="partner")  # fmt: skip
    joined = new_event(MemberJoined(member_id="partner", members=["erased", "partner"],
                                    membership_version=2), relationship_id="r1",
                       actor_id="partner")  # fmt: skip
    for envelope in (answered, activated):
        assert "erased" in members_mentioned(envelope)
        assert "erased" not in members_named(envelope)  # a late one still counts for the partner
    assert members_mentioned(joined) == {"partner"}
