"""Ingest: check-ins per second and p50/p99 latency through gateway -> checkin -> MongoDB ->
JetStream at a fixed concurrency, against a ceiling measured in the same run: a bare FastAPI
endpoint on the same machine doing one NATS request/reply to a trivial responder.
Prints ours / ceiling last. Also prints each service's resident memory after the run."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.report import MEMORY, conclude, goal, spread
from bench.system import attune, member_with_relationship
from deploy.embedded import SERVICES, wait_ready
from deploy.processes import ManagedProcess, free_port
from deploy.servers import private_servers

REQUESTS = 600
CONCURRENCY = 16


async def drive(
    url: str, path: str, headers: dict[str, str], body: dict[str, object]
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 201, response.text
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return REQUESTS / elapsed, sorted(latencies)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ours(api: str) -> tuple[float, list[float]]:
    headers, rid = await member_with_relationship(api)
    body = {"mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"}
    return await drive(api, f"/v1/relationships/{rid}/checkins", headers, body)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        base = Path(tmp)
        ceiling_port = free_port()
        ceiling = ManagedProcess(
            "ceiling",
            [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--port",
             str(ceiling_port), "--log-level", "warning"],
            {"BENCH_NATS_URL": nats_url}, base / "ceiling.log",
        )  # fmt: skip
        with attune(base, nats_url, db_url, extra_processes={"ceiling": ceiling}) as running:
            processes = list(running.processes.values())
            wait_ready(f"http://127.0.0.1:{ceiling_port}/docs", processes)
            ceiling_rate, ceiling_lat = asyncio.run(
                drive(f"http://127.0.0.1:{ceiling_port}", "/echo", {}, {"mood": 4})
            )
            our_rate, our_lat = asyncio.run(ours(running.api))
            memory = {s: rss_mb(running.processes[s].pid) for s in SERVICES}
    print(f"concurrency {CONCURRENCY}, {REQUESTS} requests each")
    print(f"ceiling (FastAPI + one NATS request/reply): {ceiling_rate:,.0f} req/s, "
          f"{spread(ceiling_lat)}")  # fmt: skip
    print(f"ours (gateway -> checkin -> MongoDB -> outbox): {our_rate:,.0f} check-ins/s, "
          f"{spread(our_lat)}")  # fmt: skip
    print(f"{MEMORY} " + ", ".join(f"{s} {mb:.0f} MB" for s, mb in memory.items())
          + " (resident, after the ingest run)")  # fmt: skip
    latency_ratio = statistics.mean(our_lat) / statistics.mean(ceiling_lat)
    print(f"mean latency ratio ours/ceiling: {latency_ratio:.1f}")
    goal("ceiling_requests_per_second", ceiling_rate)
    goal("ingest_ratio", our_rate / ceiling_rate)
    conclude(
        f"{our_rate:,.0f} check-ins/s, {spread(our_lat)}",
        f"{ceiling_rate:,.0f} req/s, {spread(ceiling_lat)} (FastAPI + NATS request/reply)",
        "ours/ceiling",
        our_rate / ceiling_rate,
    )


if __name__ == "__main__":
    main()
