"""Hourly event counts per owner and type, for the ops figures; each event counted once."""

from __future__ import annotations

from services.gateway import store
from shared.messages.base import DecodedEvent
from shared.mongo import Session
from shared.runtime import ServiceRuntime
from shared.subjects import SERVICES


def is_erasure_confirmation(event: DecodedEvent) -> bool:
    return event.envelope.type.endswith(".erasure_confirmed")


def wire(runtime: ServiceRuntime) -> None:
    async def count(batch: list[DecodedEvent]) -> None:
        db = runtime.db

        async def effect(session: Session, fresh: list[DecodedEvent]) -> None:
            await store.count_events(db, [event.envelope for event in fresh], session)

        await runtime.apply_batch_once("ops-counts", batch, effect)

    for owner in SERVICES:
        runtime.consume_batches(owner, "ops", count)

    async def confirmed(event: DecodedEvent) -> None:
        erasure_id = str(event.envelope.data["erasure_id"])
        db = runtime.db

        async def effect(session: Session) -> None:
            await store.confirm_erasure(db, session, erasure_id, event.envelope.owner)

        await runtime.apply_once("erasures", event.id, effect)

    for owner in store.ERASURE_CONFIRMERS:
        runtime.consume(owner, "erasures", confirmed, only=is_erasure_confirmation)
