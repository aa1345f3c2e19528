"""Erasure: every service forgets a member (or a whole relationship) and says so.

The gateway publishes `member.erased` (and `relationship.erased` when the last member
left); each service removes what it holds in one transaction with its confirmation
event, so the gateway can tell when an erasure is complete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.consumer import apply_once
from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData, new_event
from shared.messages.gateway import MemberErased, RelationshipErased
from shared.mongo import Session
from shared.runtime import ServiceRuntime

EraseMember = Callable[[Session, MemberErased], Awaitable[None]]
EraseRelationship = Callable[[Session, str], Awaitable[None]]


def handle_erasure(
    runtime: ServiceRuntime,
    confirmation: type[EventData],
    erase_member: EraseMember,
    erase_relationship: EraseRelationship,
) -> None:
    async def on_event(event: DecodedEvent) -> None:
        data, rid = event.data, event.envelope.relationship_id
        if isinstance(data, MemberErased):
            erased = data

            async def forget_member(session: Session) -> None:
                await erase_member(session, erased)
                confirmed = confirmation(erasure_id=erased.erasure_id, member_id=erased.member_id)
                await runtime.outbox.add(session, new_event(
                    confirmed, relationship_id=None, actor_id=None, visibility=Visibility.PRIVATE,
                ))  # fmt: skip

            if await apply_once(runtime.mongo, runtime.db, "erasure", event.id, forget_member):
                runtime.outbox.committed()
        elif isinstance(data, RelationshipErased) and rid is not None:
            gone = rid

            async def forget_relationship(session: Session) -> None:
                await erase_relationship(session, gone)

            await apply_once(runtime.mongo, runtime.db, "erasure", event.id, forget_relationship)

    runtime.consume("gateway", "erasure", on_event)
