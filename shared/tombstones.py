"""Tombstones: once a member or a relationship is erased, late events about them change nothing.

Events can arrive after an erasure (a redelivery, an outbox publishing late, another
service's consumer running behind). Every consumer asks here first, so nothing the
erasure removed is re-created. A tombstone holds only the random id that was erased and
when: erasure bookkeeping, nothing about the person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.envelope import Envelope
from shared.mongo import Database, Session

TOMBSTONES = "tombstones"

# The events that end a membership still have to reach every read model, even when the
# member they are about is erased by then: they are what removes them.
ENDINGS = frozenset({"relationship.member_left", "relationship.erased", "member.erased"})


def _member(member_id: str) -> str:
    return f"member:{member_id}"


def _relationship(relationship_id: str) -> str:
    return f"relationship:{relationship_id}"


async def bury_member(db: Database, session: Session, member_id: str, at: datetime) -> None:
    await db[TOMBSTONES].update_one(
        {"_id": _member(member_id)}, {"$setOnInsert": {"at": at}}, upsert=True, session=session
    )


async def bury_relationship(
    db: Database, session: Session, relationship_id: str, at: datetime
) -> None:
    await db[TOMBSTONES].update_one(
        {"_id": _relationship(relationship_id)}, {"$setOnInsert": {"at": at}}, upsert=True,
        session=session,
    )  # fmt: skip


def carries_erasure(event_type: str) -> bool:
    """Events that carry an erasure (or a departure) itself to every read model."""
    return event_type in ENDINGS or event_type.endswith(".erasure_confirmed")


def members_named(envelope: Envelope) -> set[str]:
    """The members an event is about: who acted, and whom its data names."""
    named: set[str] = {envelope.actor_id} if envelope.actor_id else set()
    for name in ("member_id", "author_id"):
        value: Any = envelope.data.get(name)
        if isinstance(value, str):
            named.add(value)
    return named


def members_mentioned(envelope: Envelope) -> set[str]:
    """Every member an event mentions: who acted, and every field of its data that names a
    member (an author, a bid's maker or target, who accepted or is awaited...), except a
    membership list (`members`): the events that build memberships must stay whole."""
    found = members_named(envelope)

    def walk(value: Any, key: str) -> None:
        if key == "members":
            return
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, str(name))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, key)
        elif isinstance(value, str) and _names_a_member(key):
            found.add(value)

    walk(envelope.data, "")
    return found


def _names_a_member(key: str) -> bool:
    return key.endswith(("member_id", "author_id", "_by")) or key == "awaiting"


async def is_buried(db: Database, envelope: Envelope) -> bool:
    """Whether the event is about an erased member or relationship (and must be ignored)."""
    if carries_erasure(envelope.type):
        return False
    ids = [_member(m) for m in members_named(envelope)]
    if envelope.relationship_id:
        ids.append(_relationship(envelope.relationship_id))
    if not ids:
        return False
    return await db[TOMBSTONES].count_documents({"_id": {"$in": ids}}, limit=1) > 0


async def buried_events(
    db: Database, events: Sequence[Envelope], session: Session | None = None
) -> set[str]:
    """The ids of the events (of a batch) about an erased member or relationship: one read
    for the whole batch. Inside a transaction (`session`), it reads the transaction's
    snapshot, so a batch cannot apply what an erasure committed before it removed."""
    named = {
        envelope.id: [_member(m) for m in members_named(envelope)]
        + ([_relationship(envelope.relationship_id)] if envelope.relationship_id else [])
        for envelope in events
        if not carries_erasure(envelope.type)
    }
    wanted = sorted({i for ids in named.values() for i in ids})
    if not wanted:
        return set()
    found = (
        await db[TOMBSTONES].find({"_id": {"$in": wanted}}, {"_id": 1}, session=session).to_list()
    )
    gone = {document["_id"] for document in found}
    return {event_id for event_id, ids in named.items() if gone.intersection(ids)}


async def erased_members(db: Database, member_ids: list[str]) -> set[str]:
    """Which of these members are erased."""
    found = (
        await db[TOMBSTONES]
        .find({"_id": {"$in": [_member(m) for m in member_ids]}}, {"_id": 1})
        .to_list()
    )
    return {str(f["_id"]).removeprefix("member:") for f in found}
