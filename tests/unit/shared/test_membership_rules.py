"""Which members a service trusts: the newer of the request's view and its read model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import membership as domain
from shared.messages.base import DecodedEvent, new_event
from shared.messages.gateway import MemberLeft, RelationshipCreated, RelationshipErased
from shared.problems import NotFound

AB = frozenset({"a", "b"})


def test_the_newer_membership_view_wins():
    assert domain.effective_members(["a", "b"], 3, ["a"], 2) == AB
    assert domain.effective_members(["a"], 1, ["a", "b"], 2) == AB
    assert domain.effective_members([], 0, [], 0) == frozenset()


def test_a_non_member_is_told_the_relationship_does_not_exist():
    assert domain.require_member("a", AB) == "a"
    with pytest.raises(NotFound, match="relationship not found"):
        domain.require_member("z", AB)
    with pytest.raises(NotFound):
        domain.require_member(None, AB)


def _event(data, rid: str | None = "r1") -> DecodedEvent:
    return DecodedEvent(new_event(data, relationship_id=rid, actor_id="a"), data)


def test_a_view_is_current_when_at_least_as_new_as_any_seen():
    seen = domain.SeenMemberships()
    assert not seen.current("r1", 3)  # never seen: the read model is asked
    seen.saw("r1", 2)
    seen.saw("r1", 1)  # an older version never lowers what was seen
    assert (seen.current("r1", 1), seen.current("r1", 2), seen.current("r1", 3)) == (
        False, True, True,
    )  # fmt: skip
    assert not seen.current("r1", 0)  # a request without the gateway's view


def test_projected_events_move_the_newest_version_and_an_erasure_forgets_it():
    seen = domain.SeenMemberships()
    seen.saw_event(_event(RelationshipCreated(created_by="a", members=["a"],
                                              membership_version=1)))  # fmt: skip
    seen.saw_event(_event(MemberLeft(member_id="b", members=["a"], membership_version=4)))
    assert not seen.current("r1", 3)
    seen.saw_event(_event(RelationshipErased(erased_at=datetime(2026, 11, 20, tzinfo=UTC))))
    assert not seen.current("r1", 9)
    assert len(seen) == 0


def test_what_is_seen_is_bounded():
    seen = domain.SeenMemberships(entries=3)
    for i in range(10):
        seen.saw(f"r{i}", 1)
    assert len(seen) == 3
    assert seen.current("r9", 1) and not seen.current("r0", 1)  # forgotten: read again
