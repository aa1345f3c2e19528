"""Scheduler tick cost: 100 due items among 1,000 and among 100,000 stored schedules.

The tick reads only what is due (an index on the next fire time), so its cost should
grow with the due items, not with all schedules: the ratio printed last should be near 1.
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
from services.scheduler.app import wire as wire_scheduler
from services.scheduler.handlers import SchedulerHandlers
from services.scheduler.settings import SchedulerSettings
from shared.clock import ManualClock
from shared.logging import configure_logging
from shared.runtime import ServiceRuntime

DUE = 100
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def review(n: int, due: bool, namespace: str) -> dict[str, Any]:
    at = NOW - timedelta(minutes=1) if due else NOW + timedelta(days=1 + n % 28)
    return {
        "_id": f"review:{namespace}-{n}", "kind": "review", "relationship_id": f"{namespace}-{n}",
        "rule": "FREQ=MONTHLY;BYMONTHDAY=26;BYHOUR=11;BYMINUTE=59;BYSECOND=0", "timezone": "UTC",
        "start_local": "2026-01-01T00:00:00", "occurrence": at, "next_fire_at": at,
    }  # fmt: skip


async def tick_cost(handlers: SchedulerHandlers, stored: int, tag: str) -> float:
    db = handlers.runtime.db
    await db.schedules.delete_many({})
    for start in range(0, stored, 5000):
        await db.schedules.insert_many(
            [review(n, False, tag) for n in range(start, min(start + 5000, stored))]
        )
    await db.schedules.insert_many([review(stored + n, True, tag) for n in range(DUE)])
    started = time.perf_counter()
    fired = await handlers.fire_due()
    elapsed = time.perf_counter() - started
    assert fired == DUE, fired
    return elapsed


async def run(nats_url: str, db_url: str) -> None:
    settings = SchedulerSettings.model_validate({
        "nats_url": nats_url, "mongo_url": db_url, "namespace": "bench", "environment": "test",
        "tick_seconds": 3600,
    })  # fmt: skip
    runtime = ServiceRuntime(settings)
    handlers = wire_scheduler(runtime, ManualClock(NOW))
    await runtime.start()
    try:
        small = await tick_cost(handlers, 1_000, "s")
        large = await tick_cost(handlers, 100_000, "l")
    finally:
        await runtime.stop()
    print(f"tick firing {DUE} due among 1,000 schedules:   {small * 1000:.0f} ms")
    print(f"tick firing {DUE} due among 100,000 schedules: {large * 1000:.0f} ms")
    conclude(
        f"{large * 1000:.0f} ms to fire {DUE} due among 100,000 schedules",
        f"{small * 1000:.0f} ms to fire {DUE} due among 1,000 schedules",
        "100k/1k",
        large / small,
    )


def main() -> None:
    configure_logging("bench", "WARNING", json=False)  # the services' progress is not output
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        asyncio.run(run(nats_url, db_url))


if __name__ == "__main__":
    main()
