"""Database operations: what the whole system asks of MongoDB, from the database's own counters.

The four services run as separate processes on private servers. SecantusDB's
`serverStatus.opcounters` (every insert, query, update, delete, getmore and command, from
every client) are read before and after each phase:

- idle: nothing happens for IDLE_SECONDS after the system settled - what relays, ticks and
  dispatchers cost with nothing to do (operations per second);
- writes: one member posts WRITES shared check-ins (four at a time), then the system is
  given SETTLE_SECONDS to publish, aggregate and deliver them; the idle rate times the
  phase's length is subtracted and the rest divided by WRITES.

The counters' own reads (one `serverStatus` each) are subtracted too. Prints both figures
and `ratio ops per check-in / goal 8` last.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pymongo import AsyncMongoClient

from bench.report import conclude, goal
from bench.system import attune, member_with_relationship
from deploy.servers import private_servers

WRITES = 200
CONCURRENCY = 4
WARM_SECONDS = 8.0
IDLE_SECONDS = 20.0
SETTLE_SECONDS = 8.0
GOAL_PER_CHECKIN = 8
GOAL_IDLE_PER_SECOND = 2


async def operations(client: AsyncMongoClient[dict[str, Any]]) -> int:
    return sum((await by_kind(client)).values())


async def by_kind(client: AsyncMongoClient[dict[str, Any]]) -> dict[str, int]:
    """serverStatus.opcounters: insert, query, update, delete, getmore, command."""
    status = await client.admin.command("serverStatus")
    return {kind: int(v) for kind, v in status["opcounters"].items()}


def print_kinds(
    before: dict[str, int], after: dict[str, int], idle: dict[str, float], elapsed: float
) -> None:
    """Each kind of operation per check-in, its idle rate subtracted (where they went)."""
    kinds = ", ".join(
        f"{kind} {(after[kind] - before.get(kind, 0) - idle.get(kind, 0) * elapsed) / WRITES:.2f}"
        for kind in after
    )
    print(f"  by kind, per check-in: {kinds}")


async def per_collection(client: AsyncMongoClient[dict[str, Any]]) -> dict[str, int]:
    """Operations per collection from the `top` command, where the server has it."""
    try:
        totals = (await client.admin.command("top"))["totals"]
    except Exception:
        return {}
    return {name: int(t.get("total", {}).get("count", 0)) for name, t in totals.items()
            if isinstance(t, dict)}  # fmt: skip


async def write_checkins(api: str) -> None:
    headers, rid = await member_with_relationship(api)
    body = {"mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(WRITES):
        queue.put_nowait(i)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            response = await http.post(
                f"/v1/relationships/{rid}/checkins",
                json=body,
                headers={**headers, "Idempotency-Key": f"bench-{i}"},
            )
            assert response.status_code == 201, response.text

    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))


async def measure(api: str, db_url: str) -> tuple[float, float]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(db_url)
    try:
        # The sign-up and relationship are not what we measure: do them before the idle phase
        # so the idle phase also covers whatever background work a first member starts.
        await asyncio.sleep(WARM_SECONDS)
        kinds_before, started = await by_kind(client), time.monotonic()
        await asyncio.sleep(IDLE_SECONDS)
        kinds_after, idle_elapsed = await by_kind(client), time.monotonic() - started
        before, after = sum(kinds_before.values()), sum(kinds_after.values())
        idle_rate = (after - before - 1) / idle_elapsed
        idle_kinds = {k: (v - kinds_before.get(k, 0)) / idle_elapsed
                      for k, v in kinds_after.items()}  # fmt: skip

        kinds_before, started = await by_kind(client), time.monotonic()
        before = sum(kinds_before.values())
        top_before = await per_collection(client)
        await write_checkins(api)
        await asyncio.sleep(SETTLE_SECONDS)
        kinds_after, elapsed = await by_kind(client), time.monotonic() - started
        after = sum(kinds_after.values())
        top_after = await per_collection(client)
        print_kinds(kinds_before, kinds_after, idle_kinds, elapsed)
        for name in sorted(top_after, key=lambda n: top_before.get(n, 0) - top_after[n]):
            if (count := top_after[name] - top_before.get(name, 0)) >= WRITES // 50:
                print(f"  {count / WRITES:5.2f} per check-in  {name}")
        per_write = (after - before - 1 - idle_rate * elapsed) / WRITES
        return idle_rate, per_write
    finally:
        await client.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        base = Path(tmp)
        with private_servers(base) as (nats_url, db_url), attune(base, nats_url, db_url) as running:
            idle_rate, per_write = asyncio.run(measure(running.api, db_url))
    print(f"idle: {idle_rate:.1f} database operations/s over {IDLE_SECONDS:.0f} s "
          f"(goal <= {GOAL_IDLE_PER_SECOND})")  # fmt: skip
    print(f"writes: {per_write:.1f} database operations per accepted shared check-in "
          f"({WRITES} check-ins, background subtracted; goal <= {GOAL_PER_CHECKIN})")  # fmt: skip
    goal("ops_per_checkin", per_write)
    goal("ops_idle_per_second", idle_rate)
    conclude(
        f"{per_write:.1f} ops per shared check-in, {idle_rate:.1f} ops/s idle",
        f"goal <= {GOAL_PER_CHECKIN} per check-in, <= {GOAL_IDLE_PER_SECOND}/s idle "
        "(serverStatus.opcounters, all services)",
        "ops per check-in/goal",
        per_write / GOAL_PER_CHECKIN,
    )


if __name__ == "__main__":
    main()
