"""Hourly event counts per owner and type, for the ops figures; each event counted once."""

from __future__ import annotations

from services.gateway import store
from shared.messages.base import DecodedEvent
from shared.messages.checkin import CheckinErasureConfirmed
from shared.messages.insights import InsightsErasureConfirmed
from shared.messages.scheduler import SchedulerErasureConfirmed
from shared.mongo import Session
from shared.runtime import ServiceRuntime
from shared.subjects import SERVICES

# Each service's word that a member's erasure is done there: the only events of theirs the
# erasure bookkeeping reads (the server filters out every other).
CONFIRMATIONS = {
    "checkin": CheckinErasureConfirmed.event_type,
    "insights": InsightsErasureConfirmed.event_type,
    "scheduler": SchedulerErasureConfirmed.event_type,
}


def wire(runtime: ServiceRuntime) -> None:
    async def count(batch: list[DecodedEvent]) -> None:
        db = runtime.db

        async def effect(session: Session, fresh: list[DecodedEvent]) -> None:
            await store.count_events(db, [event.envelope for event in fresh], session)

        await runtime.apply_batch_once("ops-counts", batch, effect)

    for owner in SERVICES:
        runtime.consume_batches(owner, "ops", count, leaves_out_erased=True)

    async def confirmed(event: DecodedEvent) -> None:
        erasure_id = str(event.envelope.data["erasure_id"])
        db = runtime.db

        async def effect(session: Session) -> None:
            await store.confirm_erasure(db, session, erasure_id, event.envelope.owner)

        await runtime.apply_once("erasures", event.id, effect)

    for owner in store.ERASURE_CONFIRMERS:
        runtime.consume(owner, "erasures", confirmed, only_type=CONFIRMATIONS[owner])
