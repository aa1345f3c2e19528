"""Erasure: every service forgets a member (or a whole relationship) and says so.

The gateway publishes `member.erased` (and `relationship.erased` when the last member
left); each service deletes what it published about them from its streams, then removes
what it holds (outbox rows included) in one transaction with a tombstone and its
confirmation event, so the gateway can tell when an erasure is complete and late events
change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared import tombstones
from shared.envelope import Visibility
from shared.messages.base import DecodedEvent, EventData, new_event
from shared.messages.gateway import MemberErased, RelationshipErased
from shared.mongo import Session
from shared.runtime import ServiceRuntime
from shared.stream_erasure import erase_member_messages, erase_relationship_messages

EraseMember = Callable[[Session, MemberErased], Awaitable[None]]
EraseRelationship = Callable[[Session, str], Awaitable[None]]


def handle_erasure(
    runtime: ServiceRuntime,
    confirmation: type[EventData],
    erase_member: EraseMember,
    erase_relationship: EraseRelationship,
) -> None:
    async def sweep_member(erased: MemberErased) -> None:
        await erase_member_messages(
            runtime.broker.connection.jetstream(), runtime.settings.namespace, runtime.name,
            erased.member_id, erased.every_relationship_id, owns_events=runtime.owns_events,
        )  # fmt: skip

    async def on_event(event: DecodedEvent) -> None:
        data, rid = event.data, event.envelope.relationship_id
        if isinstance(data, MemberErased):
            erased = data
            # The stream first, so that once this service confirms, nothing it published
            # about the member is left there; again after the commit, for an event the relay
            # was publishing meanwhile (its outbox row is gone now, so none can follow).
            await sweep_member(erased)

            async def forget_member(session: Session) -> None:
                await erase_member(session, erased)
                await tombstones.bury_member(runtime.db, session, erased.member_id,
                                             erased.erased_at)  # fmt: skip
                if runtime.owns_events:
                    await runtime.outbox.forget(session, member_id=erased.member_id)
                    confirmed = confirmation(erasure_id=erased.erasure_id,
                                             member_id=erased.member_id)  # fmt: skip
                    await runtime.outbox.add(session, new_event(
                        confirmed, relationship_id=None, actor_id=None,
                        visibility=Visibility.PRIVATE,
                    ))  # fmt: skip

            await runtime.apply_once("erasure", event.id, forget_member)
            await sweep_member(erased)
        elif isinstance(data, RelationshipErased) and rid is not None:
            gone = rid

            async def forget_relationship(session: Session) -> None:
                await erase_relationship(session, gone)
                await tombstones.bury_relationship(runtime.db, session, gone, data.erased_at)
                if runtime.owns_events:
                    await runtime.outbox.forget(session, relationship_id=gone)

            await runtime.apply_once("erasure", event.id, forget_relationship)
            await erase_relationship_messages(
                runtime.broker.connection.jetstream(), runtime.settings.namespace, runtime.name,
                gone, owns_events=runtime.owns_events,
            )  # fmt: skip

    runtime.consume("gateway", "erasure", on_event)
