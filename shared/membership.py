"""A relationship-membership read model each service keeps from the gateway's events.

Commands carry the gateway's authoritative member list; this projection serves
background work (reminders, insights) that has no request to read it from.
Newer membership versions win, so redelivered or reordered events cannot
roll membership back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from shared.messages.base import DecodedEvent
from shared.messages.gateway import (
    MemberJoined,
    MemberLeft,
    RelationshipCreated,
    RelationshipErased,
)
from shared.mongo import Database, Session
from shared.problems import NotFound

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


def effective_members(
    request_members: Iterable[str],
    request_version: int,
    known_members: Iterable[str],
    known_version: int,
) -> frozenset[str]:
    """The newer of the gateway's view in the request and the local read model."""
    if request_version >= known_version and request_version > 0:
        return frozenset(request_members)
    return frozenset(known_members)


def require_member(actor: str | None, members: frozenset[str]) -> str:
    # A non-member learns nothing, not even that the relationship exists.
    if actor is None or actor not in members:
        raise NotFound("relationship not found", code="relationship_not_found")
    return actor


async def authorize(
    db: Database,
    relationship_id: str | None,
    actor_id: str | None,
    request_members: Iterable[str],
    request_version: int,
) -> frozenset[str]:
    """The relationship's members as this service should see them, if the actor is one."""
    if not relationship_id:
        raise NotFound("relationship not found", code="relationship_not_found")
    document = await db[MEMBERSHIPS].find_one({"_id": relationship_id})
    known, version = (document["members"], document["version"]) if document else ([], 0)
    members = effective_members(request_members, request_version, known, version)
    require_member(actor_id, members)
    return members
