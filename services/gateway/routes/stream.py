"""The live stream: Server-Sent Events of new events the caller may see.

One ephemeral ordered JetStream consumer per owning stream, filtered to this
relationship. The SSE id is the position in every stream, so `Last-Event-ID`
resumes exactly after the last event the client saw, with nothing skipped and
nothing repeated. Private events reach their author only; the stream ends when
the caller is no longer a member, or their token is revoked or expires. A member holds
a few streams at once, not more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from sse_starlette import EventSourceResponse

from services.gateway import store
from services.gateway.deps import Membership, runtime_of, settings_of
from services.gateway.routes.errors import AUTHED
from shared.envelope import Envelope
from shared.messages.base import subject_of
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


def encode_position(positions: Positions) -> str:
    return base64.urlsafe_b64encode(json.dumps(positions, sort_keys=True).encode()).decode()


def decode_position(value: str) -> Positions:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value.encode()))
        if not isinstance(decoded, dict):
            raise TypeError("not a mapping")
        return {str(k): int(v) for k, v in decoded.items() if k in SERVICES and int(v) >= 0}
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "Last-Event-ID is not one this stream gave out", field="Last-Event-ID"
        ) from exc


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
    positions = decode_position(last_event_id) if last_event_id else {}
    runtime = runtime_of(request)
    settings = settings_of(request)
    namespace = settings.namespace
    js = runtime.broker.connection.jetstream()
    queue: asyncio.Queue[tuple[str, Msg]] = asyncio.Queue(maxsize=1000)
    subscriptions = []
    counter: StreamCounter = request.app.state.streams
    counter.acquire(ctx.member_id)
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
                    relationship_events(namespace, owner, ctx.relationship_id),
                    stream=stream_name(namespace, owner),
                    cb=deliver,
                    ordered_consumer=True,
                    config=config,
                )
            )
        if not positions:
            # A fresh stream starts from now; remember where "now" is in each stream.
            for owner in SERVICES:
                info = await js.stream_info(stream_name(namespace, owner))
                positions[owner] = info.state.last_seq
    except BaseException:
        counter.release(ctx.member_id)
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        raise
    heartbeat = settings.stream_heartbeat_seconds

    async def events() -> AsyncIterator[dict[str, str]]:
        checked = time.monotonic()
        try:
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
                try:
                    envelope = Envelope.model_validate_json(msg.data)
                    if subject_of(namespace, envelope) != msg.subject:
                        continue  # not where its owner publishes it: never shown to anyone
                except ValueError:
                    continue
                if not envelope.visible_to(ctx.member_id):
                    continue
                yield {
                    "id": encode_position(positions),
                    "event": envelope.type,
                    "data": envelope.to_json().decode(),
                }
                left = envelope.type in ("relationship.member_left", "relationship.erased")
                if left and not await still_member():
                    return
        finally:
            counter.release(ctx.member_id)
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def still_member() -> bool:
        current = await store.relationship(runtime.db, ctx.relationship_id)
        return current is not None and ctx.member_id in current["members"]

    async def still_allowed() -> bool:
        """Still a member, with a token neither revoked nor expired."""
        holder = await store.member_for_token(
            runtime.db, ctx.caller.token_digest, datetime.now(UTC)
        )
        return holder == ctx.member_id and await still_member()

    return EventSourceResponse(events(), ping=settings.stream_heartbeat_seconds)
