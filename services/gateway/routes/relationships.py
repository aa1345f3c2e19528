"""Relationships of two or more members: create, read, invite, accept, leave.

Every membership change and its event commit together (the outbox), guarded by
the membership version so concurrent joins and leaves never lose one another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Path, Request, Response

from services.gateway import store
from services.gateway.auth import new_invite_code
from services.gateway.deps import (
    CurrentMember,
    EntryId,
    Membership,
    access_of,
    db_of,
    runtime_of,
    settings_of,
)
from services.gateway.routes.errors import AUTHED, WRITE
from services.gateway.schemas import (
    InviteOut,
    MemberRef,
    PendingInviteOut,
    RelationshipIn,
    RelationshipOut,
)
from shared import tombstones
from shared.envelope import new_id
from shared.messages.base import EventData, new_event
from shared.messages.gateway import (
    MemberJoined,
    MemberLeft,
    RelationshipCreated,
    RelationshipErased,
)
from shared.mongo import Database, Document, Session
from shared.problems import Conflict, NotFound
from shared.runtime import ServiceRuntime

router = APIRouter(prefix="/v1", tags=["relationships"])

MEMBERSHIP_ATTEMPTS = 5


async def relationship_out(db: Database, relationship: Document) -> RelationshipOut:
    members = await store.members_by_id(db, list(relationship["members"]))
    return RelationshipOut(
        id=relationship["_id"],
        name=relationship.get("name"),
        tags=relationship.get("tags", []),
        members=[
            MemberRef(id=m, display_name=members[m]["display_name"] if m in members else "")
            for m in relationship["members"]
        ],
    )


def invite_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@router.post(
    "/relationships", status_code=201, response_model=RelationshipOut, responses=WRITE,
    summary="Start a relationship (you are its first member)",
)  # fmt: skip
async def create_relationship(
    body: RelationshipIn, caller: CurrentMember, request: Request
) -> RelationshipOut:
    runtime = runtime_of(request)
    rid = new_id()
    relationship: Document = {
        "_id": rid,
        "name": body.name or None,
        "tags": body.tags,
        "members": [caller.member_id],
        "joined_at": {caller.member_id: datetime.now(UTC)},  # bounds what the stream replays
        "membership_version": 1,
        "created_by": caller.member_id,
        "created_at": datetime.now(UTC),
    }

    async def work(session: Session) -> None:
        await store.insert_relationship(runtime.db, session, relationship)
        data = RelationshipCreated(
            created_by=caller.member_id, members=[caller.member_id], membership_version=1
        )
        await runtime.outbox.add(
            session, new_event(data, relationship_id=rid, actor_id=caller.member_id)
        )

    await runtime.transact(work)
    return await relationship_out(runtime.db, relationship)


@router.get(
    "/relationships", response_model=list[RelationshipOut], responses=AUTHED,
    summary="Your relationships",
)  # fmt: skip
async def list_relationships(caller: CurrentMember, request: Request) -> list[RelationshipOut]:
    db = db_of(request)
    return [
        await relationship_out(db, r) for r in await store.relationships_of(db, caller.member_id)
    ]


@router.get(
    "/relationships/{rid}", response_model=RelationshipOut, responses=AUTHED,
    summary="One of your relationships",
)  # fmt: skip
async def get_relationship(ctx: Membership, request: Request) -> RelationshipOut:
    return await relationship_out(db_of(request), ctx.relationship)


@router.post(
    "/relationships/{rid}/invites", status_code=201, response_model=InviteOut, responses=WRITE,
    summary="Invite someone: a single-use code that expires",
)  # fmt: skip
async def invite(ctx: Membership, request: Request) -> InviteOut:
    code, invite_id = new_invite_code(), new_id()
    expires_at = datetime.now(UTC) + timedelta(hours=settings_of(request).invite_ttl_hours)
    await store.insert_invite(
        db_of(request),
        {
            "_id": invite_digest(code),
            "invite_id": invite_id,
            "relationship_id": ctx.relationship_id,
            "created_by": ctx.member_id,
            "expires_at": expires_at,
            "used_by": None,
        },
    )
    return InviteOut(id=invite_id, code=code, expires_at=expires_at)


@router.get(
    "/relationships/{rid}/invites", response_model=list[PendingInviteOut], responses=AUTHED,
    summary="Invites not used yet (their codes are never shown again)",
)  # fmt: skip
async def pending_invites(ctx: Membership, request: Request) -> list[PendingInviteOut]:
    found = await store.pending_invites(db_of(request), ctx.relationship_id, datetime.now(UTC))
    return [
        PendingInviteOut(id=i["invite_id"], created_by=i["created_by"], expires_at=i["expires_at"])
        for i in found
    ]


@router.delete(
    "/relationships/{rid}/invites/{invite_id}", status_code=204, responses=AUTHED,
    summary="Revoke an invite: its code no longer lets anyone join",
)  # fmt: skip
async def revoke_invite(invite_id: EntryId, ctx: Membership, request: Request) -> Response:
    if not await store.revoke_invite(db_of(request), ctx.relationship_id, invite_id):
        raise NotFound("invite not found", code="invite_not_found")
    return Response(status_code=204)


async def change_membership(
    runtime: ServiceRuntime,
    relationship_id: str,
    change: Callable[[Session, Document], Awaitable[Document | None]],
) -> Document | None:
    """Read, change under the version guard, retry if someone else changed it meanwhile."""
    for _ in range(MEMBERSHIP_ATTEMPTS):
        current = await store.relationship(runtime.db, relationship_id)
        if current is None:
            raise NotFound("relationship not found", code="relationship_not_found")

        async def work(session: Session, current: Document = current) -> Document | None:
            return await change(session, current)

        try:
            return await runtime.transact(work)
        except _Moved:
            continue
    raise Conflict("membership changed too often at once; try again", code="concurrent_change")


class _Moved(Exception):
    """The membership version moved between read and write."""


@router.post(
    "/invites/{code}/accept", response_model=RelationshipOut, responses=WRITE,
    summary="Join a relationship with an invite code",
)  # fmt: skip
async def accept_invite(
    caller: CurrentMember,
    request: Request,
    code: str = Path(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9]+$"),
) -> RelationshipOut:
    runtime = runtime_of(request)
    db = runtime.db
    digest = invite_digest(code)
    invite = await store.invite(db, digest)
    if invite is None:
        raise NotFound("this invite is not valid", code="invite_not_found")
    rid = invite["relationship_id"]

    async def join(session: Session, current: Document) -> Document | None:
        if caller.member_id in current["members"]:
            raise Conflict("you are already a member", code="already_member")
        if invite.get("created_by") not in current["members"]:
            # Whoever issued it has left: their word no longer opens the relationship.
            raise NotFound("this invite is not valid", code="invite_not_found")
        now = datetime.now(UTC)
        if await store.claim_invite(db, session, digest, caller.member_id, now) is None:
            raise NotFound("this invite is not valid (used or expired)", code="invite_not_found")
        updated = await store.change_members(
            db, session, rid, current["membership_version"],
            {"$addToSet": {"members": caller.member_id},
             "$set": {f"joined_at.{caller.member_id}": now}},
        )  # fmt: skip
        if updated is None:
            raise _Moved
        data = MemberJoined(
            member_id=caller.member_id, members=updated["members"],
            membership_version=updated["membership_version"],
        )  # fmt: skip
        await runtime.outbox.add(
            session, new_event(data, relationship_id=rid, actor_id=caller.member_id)
        )
        return updated

    updated = await change_membership(runtime, rid, join)
    await access_of(request).forget(relationships=[rid])
    assert updated is not None
    return await relationship_out(db, updated)


@router.delete(
    "/relationships/{rid}/members/me", status_code=204, responses=AUTHED,
    summary="Leave a relationship (the last member leaving erases it)",
)  # fmt: skip
async def leave(ctx: Membership, request: Request) -> Response:
    runtime = runtime_of(request)
    db = runtime.db
    rid, member = ctx.relationship_id, ctx.member_id

    async def depart(session: Session, current: Document) -> Document | None:
        if member not in current["members"]:
            raise NotFound("relationship not found", code="relationship_not_found")
        remaining = [m for m in current["members"] if m != member]
        data: EventData
        if remaining:
            updated = await store.change_members(
                db, session, rid, current["membership_version"],
                {"$pull": {"members": member}, "$unset": {f"joined_at.{member}": ""}},
            )  # fmt: skip
            if updated is None:
                raise _Moved
            await store.forget_departed_member(db, session, rid, member)
            await store.note_departure(db, session, member, rid)
            data = MemberLeft(
                member_id=member,
                members=remaining,
                membership_version=updated["membership_version"],
            )
        else:
            now = datetime.now(UTC)
            await store.delete_relationship(db, session, rid)
            await tombstones.bury_relationship(db, session, rid, now)
            data = RelationshipErased(erased_at=now)
        await runtime.outbox.add(session, new_event(data, relationship_id=rid, actor_id=member))
        return None

    await change_membership(runtime, rid, depart)
    await access_of(request).forget(relationships=[rid])
    return Response(status_code=204)
