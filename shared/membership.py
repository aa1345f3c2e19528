"""A relationship-membership read model each service keeps from the gateway's events.

Commands carry the gateway's authoritative member list; this projection serves
background work (reminders, insights) that has no request to read it from.
Newer membership versions win, so redelivered or reordered events cannot
roll membership back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.messages.base import DecodedEvent
from shared.messages.gateway import (
    MemberJoined,
    MemberLeft,
    RelationshipCreated,
    RelationshipErased,
)
from shared.mongo import Database, Session

MEMBERSHIPS = "memberships"

MEMBERSHIP_EVENTS = (RelationshipCreated, MemberJoined, MemberLeft, RelationshipErased)


async def project_membership(db: Database, event: DecodedEvent, session: Session) -> None:
    rid = event.envelope.relationship_id
    data = event.data
    if rid is None:
        return
    if isinstance(data, RelationshipErased):
        await db[MEMBERSHIPS].delete_one({"_id": rid}, session=session)
        return
    if not isinstance(data, RelationshipCreated | MemberJoined | MemberLeft):
        return
    current = await db[MEMBERSHIPS].find_one({"_id": rid}, {"version": 1}, session=session)
    if current is not None and current["version"] >= data.membership_version:
        return  # an older or repeated event: membership never moves backwards
    await db[MEMBERSHIPS].replace_one(
        {"_id": rid},
        {
            "members": sorted(set(data.members)),
            "version": data.membership_version,
            "updated_at": datetime.now(UTC),
        },
        upsert=True,
        session=session,
    )


async def members_of(db: Database, relationship_id: str) -> list[str]:
    document = await db[MEMBERSHIPS].find_one({"_id": relationship_id})
    return list(document["members"]) if document else []


async def ensure_membership_indexes(db: Database) -> None:
    await db[MEMBERSHIPS].create_index("members")
