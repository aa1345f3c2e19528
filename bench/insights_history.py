"""Insights: does history make events dearer?

The per-event cost of the same 200 new events for a relationship with 1,000 and with
100,000 prior events (the aggregates and processed-event markers those would leave,
written directly), applied through the handler in this process, printed as a ratio - the
goal is that it stays near 1. Throughput through the insights consumer is bench/pipeline.py.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import conclude
from deploy.servers import private_servers
from services.insights.app import wire
from services.insights.handlers import InsightsHandlers
from services.insights.months import MONTHS
from services.insights.settings import InsightsSettings
from shared.envelope import Envelope, Visibility
from shared.logging import configure_logging
from shared.messages import DecodedEvent, new_event
from shared.messages.base import EventData
from shared.messages.checkin import BidAnswered, BidMade, CheckinLogged
from shared.runtime import ServiceRuntime

NOW = datetime.now(UTC)
NEW_EVENTS = 200


def events_for(rid: str, count: int, start: int = 0) -> list[Envelope]:
    found: list[Envelope] = []
    for i in range(start, start + count):
        at = NOW - timedelta(minutes=i)
        data: EventData
        if i % 3 == 0:
            data = CheckinLogged(checkin_id=f"c{i}", author_id="a", occurred_at=at, mood=3,
                                 connection=6, pillars={"emotional": 3})  # fmt: skip
        elif i % 3 == 1:
            data = BidMade(bid_id=f"b{i}", from_member_id="a", to_member_id="b", kind="humor",
                           channel="call", occurred_at=at)  # fmt: skip
        else:
            data = BidAnswered(bid_id=f"b{i - 1}", from_member_id="a", to_member_id="b",
                               response="toward", made_at=at, occurred_at=at)  # fmt: skip
        found.append(new_event(data, relationship_id=rid, actor_id="a",
                               visibility=Visibility.SHARED))  # fmt: skip
    return found


async def seed_history(runtime: ServiceRuntime, rid: str, prior: int) -> None:
    """What `prior` events over 400 days leave behind: day buckets, bids, processed markers."""
    db = runtime.db
    per_day = max(prior // 400, 1)
    months: dict[str, dict[str, Any]] = {}
    for d in range(1, 401):
        day = (NOW - timedelta(days=d)).date().isoformat()
        month = months.setdefault(day[:7], {"_id": f"{rid}:{day[:7]}", "relationship_id": rid,
                                            "month": day[:7], "days": {}})  # fmt: skip
        month["days"][day[8:]] = {
            "checkins": per_day / 3, "connection_sum": 2 * per_day, "emotional_sum": per_day,
            "emotional_n": per_day / 3, "bids_made": per_day / 3, "exercises": per_day / 3,
        }  # fmt: skip
    await db[MONTHS].insert_many(list(months.values()))
    bids = [
        {"_id": f"{rid}-old-{i}", "relationship_id": rid,
         "made_at": NOW - timedelta(days=1 + i * 400 / (prior / 3)),
         "answered_at": NOW - timedelta(days=1 + i * 400 / (prior / 3)), "response": "toward"}
        for i in range(prior // 3)
    ]  # fmt: skip
    for chunk in range(0, len(bids), 5000):
        await db.bids.insert_many(bids[chunk : chunk + 5000])
    markers = [{"_id": f"aggregates:{rid}-e{i}", "at": NOW} for i in range(prior)]
    for chunk in range(0, len(markers), 5000):
        await db.processed_events.insert_many(markers[chunk : chunk + 5000])
    await db.relationships.insert_one(
        {"_id": rid, "first_day": (NOW - timedelta(days=400)).date().isoformat()}
    )


async def per_event_cost(handlers: InsightsHandlers, rid: str) -> float:
    from shared.messages import decode

    fresh = [decode(e.to_json()) for e in events_for(rid, NEW_EVENTS, start=10_000_000)]
    started = time.perf_counter()
    for event in fresh:
        await handlers.on_event(DecodedEvent(event.envelope, event.data))
    return (time.perf_counter() - started) / NEW_EVENTS


async def run(nats_url: str, db_url: str) -> None:
    settings = InsightsSettings.model_validate({
        "nats_url": nats_url, "mongo_url": db_url, "namespace": "bench",
        "environment": "test", "tick_seconds": 3600,
    })  # fmt: skip
    runtime = ServiceRuntime(settings)
    handlers = wire(runtime)
    await runtime.start()
    try:
        await seed_history(runtime, "rel-small", 1_000)
        await seed_history(runtime, "rel-large", 100_000)
        small = await per_event_cost(handlers, "rel-small")
        large = await per_event_cost(handlers, "rel-large")
    finally:
        await runtime.stop()
    print(f"per-event cost with 1,000 prior events:   {small * 1000:.2f} ms")
    print(f"per-event cost with 100,000 prior events: {large * 1000:.2f} ms")
    conclude(
        f"{large * 1000:.2f} ms per event with 100,000 prior events",
        f"{small * 1000:.2f} ms per event with 1,000 prior events",
        "100k/1k",
        large / small,
    )


def main() -> None:
    configure_logging("bench", "WARNING", json=False)  # the services' progress is not output
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        asyncio.run(run(nats_url, db_url))


if __name__ == "__main__":
    main()
