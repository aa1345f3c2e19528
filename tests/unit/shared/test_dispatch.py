"""Events reach the one function registered for their type, and no other."""

from __future__ import annotations

from shared.dispatch import by_event_type, wanted
from shared.messages.base import DecodedEvent, new_event
from shared.messages.gateway import MemberUpdated, RelationshipCreated


def decoded(data) -> DecodedEvent:
    return DecodedEvent(envelope=new_event(data, relationship_id="r1", actor_id="a"), data=data)


async def test_each_event_reaches_its_types_function_only() -> None:
    seen: list[str] = []

    async def on_created(event: DecodedEvent) -> None:
        seen.append(type(event.data).__name__)

    dispatch = by_event_type({RelationshipCreated: on_created})
    created = decoded(RelationshipCreated(created_by="a", members=["a"], membership_version=1))
    updated = decoded(MemberUpdated(member_id="a", timezone="Europe/Berlin"))
    await dispatch(created)
    await dispatch(updated)
    assert seen == ["RelationshipCreated"]
    assert wanted({RelationshipCreated: on_created}, [updated, created]) == [created]
