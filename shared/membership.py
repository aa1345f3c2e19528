"""A relationship-membership read model each service keeps from the gateway's events.

Commands carry the gateway's authoritative member list; this projection serves
background work (reminders, insights) that has no request to read it from.
Newer membership versions win, so redelivered or reordered events cannot
roll membership back. A service may also remember the newest version it has seen of
each relationship (`SeenMemberships`): a command whose view is at least that new needs
no read of the projection at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cachetools import LRUCache

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


class SeenMemberships:
    """The newest membership version this process has seen of each relationship, in bounded
    memory: from the membership events it projected, the read model and earlier commands.

    A command's view (the gateway's, read as it sent the command) that is at least this new
    is as new as anything the read model could say, so it is trusted without a read. A view
    that is missing or older, or a relationship not seen yet (or forgotten to make room),
    is checked against the read model as before.
    """

    def __init__(self, entries: int = 100_000) -> None:
        self._versions: LRUCache[str, int] = LRUCache(entries)

    def saw(self, relationship_id: str, version: int) -> None:
        if version > self._versions.get(relationship_id, 0):
            self._versions[relationship_id] = version

    def saw_event(self, event: DecodedEvent) -> None:
        """After the event was projected."""
        rid, data = event.envelope.relationship_id, event.data
        if rid is None:
            return
        if isinstance(data, RelationshipErased):
            self._versions.pop(rid, None)  # its read model is gone: read (and miss) again
        elif isinstance(data, RelationshipCreated | MemberJoined | MemberLeft):
            self.saw(rid, data.membership_version)

    def current(self, relationship_id: str, version: int) -> bool:
        """Whether a view at `version` is at least as new as any this process has seen."""
        seen = self._versions.get(relationship_id)
        return version > 0 and seen is not None and version >= seen

    def __len__(self) -> int:
        return len(self._versions)


async def authorize(
    db: Database,
    relationship_id: str | None,
    actor_id: str | None,
    request_members: Iterable[str],
    request_version: int,
    seen: SeenMemberships | None = None,
) -> frozenset[str]:
    """The relationship's members as this service should see them, if the actor is one.

    With `seen`, a request whose view is at least as new as any seen is decided on that
    view alone (no read); the read model is read otherwise, and what it says is remembered.
    """
    if not relationship_id:
        raise NotFound("relationship not found", code="relationship_not_found")
    if seen is not None and seen.current(relationship_id, request_version):
        members = frozenset(request_members)
        require_member(actor_id, members)
        return members
    document = await db[MEMBERSHIPS].find_one({"_id": relationship_id})
    known, version = (document["members"], document["version"]) if document else ([], 0)
    members = effective_members(request_members, request_version, known, version)
    require_member(actor_id, members)
    if seen is not None:
        # The gateway read its view from its own database: newer than ours, it is the newest.
        seen.saw(relationship_id, max(version, request_version))
    return members
