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
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from deploy.embedded import (
    SERVICES,
    ManagedProcess,
    free_port,
    private_servers,
    start_service,
    wait_ready,
)

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


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ours(api: str) -> tuple[float, list[float]]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        signup = await http.post("/v1/auth/signup", json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.org", "password": "bench password 1",
            "display_name": "Bench", "timezone": "UTC"})  # fmt: skip
        headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        rid = (await http.post("/v1/relationships", json={}, headers=headers)).json()["id"]
    body = {"mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"}
    return await drive(api, f"/v1/relationships/{rid}/checkins", headers, body)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        base = Path(tmp)
        env = {"ATTUNE_NATS_URL": nats_url, "ATTUNE_MONGO_URL": db_url,
               "ATTUNE_ENVIRONMENT": "test", "ATTUNE_RATE_PER_SECOND": "100000",
               "ATTUNE_RATE_BURST": "100000", "ATTUNE_LOG_LEVEL": "WARNING"}  # fmt: skip
        processes: dict[str, ManagedProcess] = {}
        ports = {s: free_port() for s in SERVICES}
        ceiling_port = free_port()
        try:
            for service in SERVICES:
                processes[service] = start_service(
                    service, env, ports[service], base / f"{service}.log"
                )
            processes["ceiling"] = ManagedProcess(
                "ceiling",
                [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--port",
                 str(ceiling_port), "--log-level", "warning"],
                {"BENCH_NATS_URL": nats_url}, base / "ceiling.log",
            ).start()  # fmt: skip
            api = f"http://127.0.0.1:{ports['gateway']}"
            wait_ready(f"{api}/readyz", list(processes.values()), timeout=90)
            wait_ready(f"http://127.0.0.1:{ceiling_port}/docs", list(processes.values()))
            ceiling_rate, ceiling_lat = asyncio.run(
                drive(f"http://127.0.0.1:{ceiling_port}", "/echo", {}, {"mood": 4})
            )
            our_rate, our_lat = asyncio.run(ours(api))
            memory = {s: rss_mb(processes[s].pid) for s in SERVICES}
        finally:
            for process in processes.values():
                process.stop()
    print(f"concurrency {CONCURRENCY}, {REQUESTS} requests each")
    print(
        f"ceiling (FastAPI + one NATS request/reply): {ceiling_rate:,.0f} req/s, "
        f"p50 {percentile(ceiling_lat, 0.5):.1f} ms, p99 {percentile(ceiling_lat, 0.99):.1f} ms"
    )
    print(
        f"ours (gateway -> checkin -> MongoDB -> outbox): {our_rate:,.0f} check-ins/s, "
        f"p50 {percentile(our_lat, 0.5):.1f} ms, p99 {percentile(our_lat, 0.99):.1f} ms"
    )
    print(
        "resident memory after the run: "
        + ", ".join(f"{s} {mb:.0f} MB" for s, mb in memory.items())
    )
    latency_ratio = statistics.mean(our_lat) / statistics.mean(ceiling_lat)
    print(f"mean latency ratio ours/ceiling: {latency_ratio:.1f}")
    print(f"ratio ours/ceiling: {our_rate / ceiling_rate:.2f}")


if __name__ == "__main__":
    main()
