"""The only module of the gateway that touches MongoDB."""

from __future__ import annotations

from shared.envelope import Envelope
from shared.mongo import Database, Session

EVENT_COUNTS = "event_counts"


async def count_event(db: Database, envelope: Envelope, session: Session) -> None:
    hour = envelope.time.replace(minute=0, second=0, microsecond=0)
    await db[EVENT_COUNTS].update_one(
        {"_id": f"{hour:%Y%m%dT%H}:{envelope.source}:{envelope.type}"},
        {
            "$inc": {"count": 1},
            "$setOnInsert": {"hour": hour, "source": envelope.source, "type": envelope.type},
        },
        upsert=True,
        session=session,
    )


async def event_counts(db: Database) -> dict[str, int]:
    totals: dict[str, int] = {}
    async for document in db[EVENT_COUNTS].find({}):
        totals[document["type"]] = totals.get(document["type"], 0) + int(document["count"])
    return totals
