"""The live stream: Server-Sent Events of new events the caller may see.

One ephemeral ordered JetStream consumer per owning stream, filtered to this
relationship. The SSE id is the position in every stream, sealed (encrypted and bound
to the caller and the relationship), so `Last-Event-ID` resumes exactly after the last
event the client saw, with nothing skipped and nothing repeated, while the ids reveal
nothing. A replay never reaches before the caller joined, nor past the replay horizon
(an id older than that gets a `reset` event first), nor shows an erased member's
events. Private events reach their author only, author-only fields no one else; the
stream ends when the caller is no longer a member, or their token is revoked or expires.
A member holds a few streams at once, not more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Request
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from sse_starlette import EventSourceResponse

from services.gateway import store
from services.gateway.deps import Membership, runtime_of, settings_of
from services.gateway.routes.errors import AUTHED
from services.gateway.webhooks.delivery import webhook_key
from shared import crypto, privacy, tombstones
from shared.envelope import Envelope
from shared.messages.base import subject_of
from shared.mongo import Document
from shared.problems import InvalidInput, TooManyRequests
from shared.subjects import SERVICES, relationship_events, stream_name

router = APIRouter(prefix="/v1/relationships/{rid}", tags=["views"])

Positions = dict[str, int]


class StreamCounter:
    """Open streams per member in this replica; each holds consumers and a connection."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}

    def acquire(self, member_id: str) -> None:
        if self.open.get(member_id, 0) >= self.limit:
            raise TooManyRequests(
                f"at most {self.limit} live streams at once; close one first",
                code="too_many_streams", retry_after=5,
            )  # fmt: skip
        self.open[member_id] = self.open.get(member_id, 0) + 1

    def release(self, member_id: str) -> None:
        left = self.open.get(member_id, 0) - 1
        if left > 0:
            self.open[member_id] = left
        else:
            self.open.pop(member_id, None)


@dataclass(frozen=True)
class Resume:
    positions: Positions
    issued_at: datetime


def _context(rid: str, member_id: str) -> str:
    # Bound to one member's stream of one relationship: an id works nowhere else.
    return f"stream-position|{rid}|{member_id}"


def seal_position(key: bytes, rid: str, member_id: str, positions: Positions, at: datetime) -> str:
    """An opaque SSE id: the positions in every stream, encrypted, so two ids tell a client
    nothing about how many events (private ones included) lie between them."""
    plain = json.dumps({"p": positions, "t": at.timestamp()}, sort_keys=True)
    sealed = crypto.encrypt_text(key, plain, _context(rid, member_id))
    return base64.urlsafe_b64encode(sealed.encode()).decode().rstrip("=")


def open_position(key: bytes, rid: str, member_id: str, value: str) -> Resume:
    try:
        padded = value + "=" * (-len(value) % 4)
        sealed = base64.urlsafe_b64decode(padded.encode()).decode()
        decoded = json.loads(crypto.decrypt_text(key, sealed, _context(rid, member_id)))
        positions = {
            str(k): int(v) for k, v in decoded["p"].items() if k in SERVICES and int(v) >= 0
        }
        return Resume(positions, datetime.fromtimestamp(float(decoded["t"]), UTC))
    except (ValueError, TypeError, KeyError, crypto.KeyUnavailable) as exc:
        raise InvalidInput(
            "Last-Event-ID is not one this stream gave out", field="Last-Event-ID"
        ) from exc


def joined_at(relationship: Document, member_id: str, now: datetime) -> datetime:
    """When the member joined (relationships made before this was kept: their creator
    since its creation, anyone else from now on)."""
    known: datetime | None = (relationship.get("joined_at") or {}).get(member_id)
    if known is None and relationship.get("created_by") == member_id:
        known = relationship.get("created_at")
    found = known or now
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@router.get(
    "/stream",
    responses={**AUTHED, 200: {"content": {"text/event-stream": {}}, "description": "SSE"}},
    summary="Live events you may see, as Server-Sent Events (resume with Last-Event-ID)",
)
async def stream(
    ctx: Membership,
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=512)] = None,
) -> EventSourceResponse:
    runtime = runtime_of(request)
    settings = settings_of(request)
    key = webhook_key(settings)
    rid, member = ctx.relationship_id, ctx.member_id
    resume = open_position(key, rid, member, last_event_id) if last_event_id else None
    now = datetime.now(UTC)
    horizon = now - timedelta(hours=settings.stream_replay_horizon_hours)
    # Nothing from before the caller joined, nothing older than the horizon.
    floor = max(joined_at(ctx.relationship, member, now), horizon)
    reset = resume is not None and resume.issued_at < horizon
    positions: Positions = dict(resume.positions) if resume else {}
    namespace = settings.namespace
    js = runtime.broker.connection.jetstream()
    queue: asyncio.Queue[tuple[str, Msg]] = asyncio.Queue(maxsize=1000)
    subscriptions = []
    counter: StreamCounter = request.app.state.streams
    counter.acquire(member)
    try:
        for owner in SERVICES:

            async def deliver(msg: Msg, owner: str = owner) -> None:
                await queue.put((owner, msg))

            if owner in positions:
                config = ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=positions[owner] + 1,
                )
            else:
                config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
            subscriptions.append(
                await js.subscribe(
                    relationship_events(namespace, owner, rid),
                    stream=stream_name(namespace, owner),
                    cb=deliver,
                    ordered_consumer=True,
                    config=config,
                )
            )
        for owner in SERVICES:
            if owner not in positions:
                # Starting from now in this stream: remember where "now" is.
                info = await js.stream_info(stream_name(namespace, owner))
                positions[owner] = info.state.last_seq
    except BaseException:
        counter.release(member)
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        raise
    heartbeat = settings.stream_heartbeat_seconds

    async def events() -> AsyncIterator[dict[str, str]]:
        checked = time.monotonic()
        try:
            if reset:
                yield {
                    "event": "reset",
                    "data": json.dumps({"replayed_from": floor.isoformat(),
                                        "reason": "older events are past the replay horizon"}),
                }  # fmt: skip
            while True:
                try:
                    owner, msg = await asyncio.wait_for(queue.get(), timeout=heartbeat)
                except TimeoutError:
                    if not await still_allowed():
                        return
                    checked = time.monotonic()
                    continue
                if time.monotonic() - checked >= heartbeat:  # busy streams are checked too
                    if not await still_allowed():
                        return
                    checked = time.monotonic()
                positions[owner] = max(positions.get(owner, 0), msg.metadata.sequence.stream)
                visible = await as_seen(msg)
                if visible is None:
                    continue
                yield {
                    "id": seal_position(key, rid, member, positions, datetime.now(UTC)),
                    "event": visible.type,
                    "data": visible.to_json().decode(),
                }
                left = visible.type in ("relationship.member_left", "relationship.erased")
                if left and not await still_member():
                    return
        finally:
            counter.release(member)
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def as_seen(msg: Msg) -> Envelope | None:
        """The event as the caller may see it, or None."""
        try:
            envelope = Envelope.model_validate_json(msg.data)
            if subject_of(namespace, envelope) != msg.subject:
                return None  # not where its owner publishes it: never shown to anyone
        except ValueError:
            return None
        if envelope.time < floor:
            return None
        named = tombstones.members_named(envelope)
        if named and await tombstones.erased_members(runtime.db, sorted(named)):
            return None  # an erased member's: gone for everyone
        return privacy.event_for(envelope, member)

    async def still_member() -> bool:
        current = await store.relationship(runtime.db, rid)
        return current is not None and member in current["members"]

    async def still_allowed() -> bool:
        """Still a member, with a token neither revoked nor expired."""
        holder = await store.member_for_token(
            runtime.db, ctx.caller.token_digest, datetime.now(UTC)
        )
        return holder == member and await still_member()

    return EventSourceResponse(events(), ping=settings.stream_heartbeat_seconds)
