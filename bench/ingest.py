"""Ingest: check-ins per second and p50/p99 latency through gateway -> checkin -> MongoDB ->
JetStream at a fixed concurrency, against a ceiling measured in the same run: a bare FastAPI
endpoint on the same machine doing one NATS request/reply to a trivial responder.

The two alternate, ROUNDS times, each after both have warmed up and after the system has
gone quiet (what a round of check-ins leaves to the consumers is finished before the next
ceiling round starts). The ratio is the median of each round's ours / the ceiling measured
just before it: on a shared machine whose speed drifts over a minute, a single pair of
runs moved the ratio by a quarter. Prints ours / ceiling last, and each service's resident
memory after the run."""

from __future__ import annotations

import asyncio
import contextlib
import os
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

REQUESTS = 600  # per round
ROUNDS = 3
WARM_UP = 300  # requests before the first round, not counted: round 1 ran 10 % low after 48
CONCURRENCY = 16
QUIET_SHARE = 0.05  # of one core, over QUIET_WINDOW: the system has finished its backlog
QUIET_WINDOW = 0.5
QUIET_TIMEOUT = 30.0


async def drive(
    url: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, object],
    requests: int = REQUESTS,
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
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
    return requests / elapsed, sorted(latencies)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ours(api: str) -> tuple[float, list[float]]:
    """One round of check-ins by a fresh member (the cluster benchmark's measure)."""
    headers, rid = await member_with_relationship(api)
    body = {"mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"}
    return await drive(api, f"/v1/relationships/{rid}/checkins", headers, body)


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(pids: list[int]) -> None:
    """Until the processes use almost no CPU: the consumers have caught up."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        time.sleep(QUIET_WINDOW)
        if cpu_seconds(pids) - before < QUIET_SHARE * QUIET_WINDOW:
            return


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
            pids = [process.pid for process in processes]
            wait_ready(f"http://127.0.0.1:{ceiling_port}/docs", processes)
            ceiling_url = f"http://127.0.0.1:{ceiling_port}"
            headers, rid = asyncio.run(member_with_relationship(running.api))
            path = f"/v1/relationships/{rid}/checkins"
            body = {"mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"}
            asyncio.run(drive(ceiling_url, "/echo", {}, {"mood": 4}, WARM_UP))
            asyncio.run(drive(running.api, path, headers, body, WARM_UP))
            rounds: list[tuple[float, float]] = []
            ceiling_lat: list[float] = []
            our_lat: list[float] = []
            for _ in range(ROUNDS):
                wait_quiet(pids)
                ceiling_rate, latencies = asyncio.run(drive(ceiling_url, "/echo", {}, {"mood": 4}))
                ceiling_lat += latencies
                wait_quiet(pids)
                our_rate, latencies = asyncio.run(drive(running.api, path, headers, body))
                our_lat += latencies
                rounds.append((ceiling_rate, our_rate))
            memory = {s: rss_mb(running.processes[s].pid) for s in SERVICES}
    ceiling_rate = statistics.median(c for c, _ in rounds)
    our_rate = statistics.median(o for _, o in rounds)
    ratio = statistics.median(o / c for c, o in rounds)
    print(f"concurrency {CONCURRENCY}, {ROUNDS} rounds of {REQUESTS} requests each, alternating")
    for n, (c, o) in enumerate(rounds, 1):
        print(f"  round {n}: ceiling {c:,.0f} req/s, ours {o:,.0f} check-ins/s, ratio {o / c:.2f}")
    print(f"ceiling (FastAPI + one NATS request/reply): {ceiling_rate:,.0f} req/s (median), "
          f"{spread(ceiling_lat)}")  # fmt: skip
    print(f"ours (gateway -> checkin -> MongoDB -> outbox): {our_rate:,.0f} check-ins/s "
          f"(median), {spread(our_lat)}")  # fmt: skip
    print(f"{MEMORY} " + ", ".join(f"{s} {mb:.0f} MB" for s, mb in memory.items())
          + " (resident, after the ingest run)")  # fmt: skip
    latency_ratio = statistics.mean(our_lat) / statistics.mean(ceiling_lat)
    print(f"mean latency ratio ours/ceiling: {latency_ratio:.1f}")
    goal("ceiling_requests_per_second", ceiling_rate)
    goal("ingest_ratio", ratio)
    conclude(
        f"{our_rate:,.0f} check-ins/s (median of {ROUNDS} rounds), {spread(our_lat)}",
        f"{ceiling_rate:,.0f} req/s, {spread(ceiling_lat)} (FastAPI + NATS request/reply)",
        "ours/ceiling (median of the rounds' ratios)",
        ratio,
    )


if __name__ == "__main__":
    main()
