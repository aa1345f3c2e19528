"""Accounts: sign-up, tokens, the member's own profile and export."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from services.gateway import store
from services.gateway.auth import PasswordPool, new_token, token_digest
from services.gateway.deps import (
    AnonymousLimit,
    CurrentMember,
    TokenBucket,
    access_of,
    db_of,
    retry_after,
    rpc_of,
    runtime_of,
    settings_of,
)
from services.gateway.routes.errors import AUTHED, problems
from services.gateway.schemas import (
    ExportOut,
    MemberOut,
    MePatch,
    SignupIn,
    SignupOut,
    TokenIn,
    TokenOut,
)
from shared import tombstones
from shared.envelope import Visibility, new_id
from shared.messages.base import EventData, new_event
from shared.messages.checkin_rpc import MyRecords
from shared.messages.gateway import MemberErased, MemberLeft, MemberUpdated, RelationshipErased
from shared.messages.scheduler_rpc import ExportSchedules
from shared.messages.views_rpc import ExportInsights
from shared.mongo import Document, Session
from shared.problems import Conflict, NotFound, TooManyRequests, Unauthorized
from shared.rpc import CallContext
from shared.stream_erasure import erase_member_messages

router = APIRouter(prefix="/v1", tags=["accounts"])


def member_out(member: Document) -> MemberOut:
    return MemberOut(
        id=member["_id"],
        email=member["email"],
        display_name=member["display_name"],
        timezone=member["timezone"],
        quiet_hours=member.get("quiet_hours"),
        checkin_reminder_time=member.get("checkin_reminder_time"),
    )


def profile_event(member: Document) -> MemberUpdated:
    """What the scheduler needs to know about a member; never their name or email."""
    return MemberUpdated(
        member_id=member["_id"],
        timezone=member["timezone"],
        quiet_hours=member.get("quiet_hours"),
        checkin_reminder_time=member.get("checkin_reminder_time"),
    )


async def issue_token(request: Request, member_id: str) -> str:
    token = new_token()
    ttl = timedelta(days=settings_of(request).token_ttl_days)
    await store.insert_token(db_of(request), token_digest(token), member_id, datetime.now(UTC), ttl)
    return token


@router.post(
    "/auth/signup",
    status_code=201,
    response_model=SignupOut,
    responses=problems(409, 413, 415, 422, 429, 503),
    dependencies=[AnonymousLimit],
    summary="Create an account",
)
async def signup(body: SignupIn, request: Request) -> SignupOut:
    runtime = runtime_of(request)
    db = runtime.db
    member_id = new_id()
    passwords: PasswordPool = request.app.state.passwords
    member: Document = {
        "_id": member_id,
        "email": body.email,
        "password_hash": await passwords.hash(body.password),
        "display_name": body.display_name,
        "timezone": body.timezone,
        "created_at": datetime.now(UTC),
    }
    if await store.member_by_email(db, body.email) is not None:
        raise Conflict("an account with this email exists; log in instead", code="email_taken")

    async def work(session: Session) -> None:
        await store.insert_member(db, session, member)
        event = new_event(
            profile_event(member), relationship_id=None, actor_id=member_id,
            visibility=Visibility.PRIVATE,
        )  # fmt: skip
        await runtime.outbox.add(session, event)

    try:
        await runtime.transact(work)
    except store.EmailTaken as exc:
        raise Conflict(
            "an account with this email exists; log in instead", code="email_taken"
        ) from exc
    token = await issue_token(request, member_id)
    return SignupOut(member=member_out(member), access_token=token)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=problems(401, 413, 415, 422, 429, 503),
    dependencies=[AnonymousLimit],
    summary="Log in: exchange email and password for an access token",
)
async def token(body: TokenIn, request: Request) -> TokenOut:
    # Failed attempts count per account too, so guessing one member's password from many
    # addresses is as slow as from one. Keyed by a digest: the limiter holds no email.
    account = hashlib.sha256(body.email.strip().lower().encode()).hexdigest()
    account_limits: TokenBucket = request.app.state.account_limits
    wait = account_limits.wait(account)
    if wait:
        raise TooManyRequests("too many attempts for this account; wait a moment",
                              retry_after=retry_after(wait))  # fmt: skip
    member = await store.member_by_email(db_of(request), body.email)
    passwords: PasswordPool = request.app.state.passwords
    if not await passwords.verify(member["password_hash"] if member else None, body.password):
        account_limits.take(account)
        raise Unauthorized("email or password is not right", code="invalid_credentials")
    assert member is not None
    return TokenOut(access_token=await issue_token(request, member["_id"]))


@router.post("/auth/logout", status_code=204, responses=AUTHED, summary="Revoke this token")
async def logout(caller: CurrentMember, request: Request) -> Response:
    await store.revoke_token(db_of(request), caller.token_digest)
    await access_of(request).forget(tokens=[caller.token_digest])
    return Response(status_code=204)


async def _me(request: Request, caller: CurrentMember) -> Document:
    member = await store.member_by_id(db_of(request), caller.member_id)
    if member is None:
        raise Unauthorized("this account no longer exists", code="token_invalid")
    return member


Me = Annotated[Document, Depends(_me)]


@router.get("/me", response_model=MemberOut, responses=AUTHED, summary="Your profile")
async def get_me(member: Me) -> MemberOut:
    return member_out(member)


@router.patch(
    "/me", response_model=MemberOut, responses=problems(401, 404, 413, 415, 422, 429, 503),
    summary="Change your profile",
)  # fmt: skip
async def patch_me(body: MePatch, member: Me, request: Request) -> MemberOut:
    runtime = runtime_of(request)
    changes = body.model_dump(mode="json", exclude_unset=True)
    for required in ("display_name", "timezone"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if not changes:
        return member_out(member)

    async def work(session: Session) -> Document:
        updated = await store.save_member_profile(runtime.db, session, member["_id"], changes)
        if updated is None:
            raise NotFound("member not found")
        event = new_event(
            profile_event(updated), relationship_id=None, actor_id=member["_id"],
            visibility=Visibility.PRIVATE,
        )  # fmt: skip
        await runtime.outbox.add(session, event)
        return updated

    return member_out(await runtime.transact(work))


@router.get(
    "/me/export", response_model=ExportOut, responses=AUTHED, summary="Everything about you"
)
async def export(member: Me, request: Request) -> ExportOut:
    db = db_of(request)
    relationships = await store.relationships_of(db, member["_id"])
    rpc, context = rpc_of(request), CallContext(actor_id=member["_id"])
    records = await rpc.call(MyRecords(), context=context)
    insights = await rpc.call(ExportInsights(), context=context)
    schedules = await rpc.call(ExportSchedules(), context=context)
    return ExportOut(
        member=member_out(member),
        relationships=[
            {"id": r["_id"], "name": r.get("name"), "tags": r.get("tags", []), "joined": True}
            for r in relationships
        ],
        records=records.entries,
        insights=insights.model_dump(),
        schedules=schedules.model_dump(),
    )


class Anything(BaseModel):
    """A service's export section, passed on as it is."""

    model_config = ConfigDict(extra="allow")


class ErasureOut(BaseModel):
    erasure_id: str
    complete: bool
    confirmed_by: list[str]
    status_url: str


@router.delete(
    "/me", status_code=202, response_model=ErasureOut, responses=AUTHED,
    summary="Erase yourself everywhere: your entries, your keys, your account",
)  # fmt: skip
async def erase_me(member: Me, request: Request) -> ErasureOut:
    """Your tokens stop working at once; every service then forgets you and confirms it.
    The other members keep their own entries; a relationship you were the last member of
    is erased entirely."""
    runtime = runtime_of(request)
    db, member_id = runtime.db, member["_id"]
    erasure_id = new_id()
    for _ in range(5):
        relationships = await store.relationships_of(db, member_id)
        current = await store.member_by_id(db, member_id) or member
        # The ones they left (and did not rejoin): what they published there goes too.
        present = {r["_id"] for r in relationships}
        left = [rid for rid in current.get("left_relationships", []) if rid not in present]

        async def work(
            session: Session, relationships: list[Document] = relationships, left: list[str] = left
        ) -> bool:
            now = datetime.now(UTC)
            # Before the events below are added: they name the member and must go out.
            await runtime.outbox.forget(session, member_id=member_id)
            await tombstones.bury_member(db, session, member_id, now)
            for relationship in relationships:
                rid = relationship["_id"]
                remaining = [m for m in relationship["members"] if m != member_id]
                data: EventData
                if remaining:
                    updated = await store.change_members(
                        db, session, rid, relationship["membership_version"],
                        {"$pull": {"members": member_id},
                         "$unset": {f"joined_at.{member_id}": ""}},
                    )  # fmt: skip
                    if updated is None:
                        return False  # membership moved meanwhile: read it again
                    await store.forget_departed_member(db, session, rid, member_id)
                    data = MemberLeft(member_id=member_id, members=remaining,
                                      membership_version=updated["membership_version"])  # fmt: skip
                else:
                    await store.delete_relationship(db, session, rid)
                    await tombstones.bury_relationship(db, session, rid, now)
                    data = RelationshipErased(erased_at=now)
                await runtime.outbox.add(session, new_event(data, relationship_id=rid,
                                                            actor_id=member_id))  # fmt: skip
            await store.delete_member(db, session, member_id)
            await store.insert_erasure(db, session, erasure_id, now)
            erased = MemberErased(erasure_id=erasure_id, member_id=member_id, erased_at=now,
                                  relationship_ids=[r["_id"] for r in relationships],
                                  left_relationship_ids=left)  # fmt: skip
            await runtime.outbox.add(session, new_event(erased, relationship_id=None,
                                                        actor_id=member_id))  # fmt: skip
            return True

        if await runtime.transact(work):
            await access_of(request).forget(
                members=[member_id], relationships=[r["_id"] for r in relationships]
            )
            # The profile events this gateway published about them (the ones carrying the
            # erasure to the other services stay: ids only).
            await erase_member_messages(
                runtime.broker.connection.jetstream(), runtime.settings.namespace,
                runtime.name, member_id, [r["_id"] for r in relationships] + left,
            )  # fmt: skip
            return ErasureOut(erasure_id=erasure_id, complete=False, confirmed_by=[],
                              status_url=f"/v1/erasures/{erasure_id}")  # fmt: skip
    raise Conflict("membership changed too often at once; try again", code="concurrent_change")


@router.get(
    "/erasures/{erasure_id}", response_model=ErasureOut, responses=problems(404, 422),
    summary="Whether an erasure is complete (every service confirmed it)",
)  # fmt: skip
async def erasure_status(
    request: Request, erasure_id: Annotated[str, Path(pattern=r"^[a-f0-9]{32}$")]
) -> ErasureOut:
    found = await store.erasure(db_of(request), erasure_id)
    if found is None:
        raise NotFound("no such erasure", code="erasure_not_found")
    confirmed = sorted(found["confirmed"])
    return ErasureOut(
        erasure_id=erasure_id, confirmed_by=confirmed,
        complete=set(store.ERASURE_CONFIRMERS) <= set(confirmed),
        status_url=f"/v1/erasures/{erasure_id}",
    )  # fmt: skip
