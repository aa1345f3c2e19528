"""A batch looks for erased members and relationships in one read, and inside its own
transaction an erasure committed meanwhile still counts."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import tombstones
from shared.consumer import apply_batch_once
from shared.messages.base import DecodedEvent, new_event
from shared.messages.gateway import MemberUpdated
from shared.mongo import Session, transactions
from shared.subjects import database_name

T = datetime(2026, 12, 1, tzinfo=UTC)


def about(member: str) -> DecodedEvent:
    data = MemberUpdated(member_id=member, timezone="Europe/Berlin")
    return DecodedEvent(envelope=new_event(data, relationship_id="r1", actor_id=member), data=data)


async def test_an_erasure_committed_after_the_filter_still_keeps_its_events_out(mongo, namespace):
    db = mongo[database_name(namespace, "insights")]
    kept, erased = about("m_kept"), about("m_gone")
    assert await tombstones.buried_events(db, [kept.envelope, erased.envelope]) == set()

    # The batch was filtered before this erasure committed.
    async with mongo.start_session() as session:
        await tombstones.bury_member(db, session, "m_gone", T)
    assert await tombstones.buried_events(db, [kept.envelope, erased.envelope]) == {erased.id}

    applied: list[str] = []

    async def effect(_session: Session, events: list[DecodedEvent]) -> None:
        applied.extend(event.id for event in events)

    fresh = await apply_batch_once(transactions(mongo), db, "test", [kept, erased], effect)
    assert [e.id for e in fresh] == applied == [kept.id]
    # Both are marked processed: a redelivery of the erased member's event does nothing.
    assert await apply_batch_once(transactions(mongo), db, "test", [kept, erased], effect) == []
