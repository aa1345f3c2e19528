"""The four services as separate processes on private servers, for benchmarks that go
through the HTTP API (ingest, end to end)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.embedded import SERVICES, start_service, wait_ready
from deploy.processes import ManagedProcess, free_port


@dataclass
class Running:
    api: str
    processes: dict[str, ManagedProcess]


@contextlib.contextmanager
def attune(
    base: Path,
    nats_url: str,
    db_url: str,
    extra_env: dict[str, str] | None = None,
    extra_processes: dict[str, ManagedProcess] | None = None,
) -> Iterator[Running]:
    """Start every service (and `extra_processes`), wait until the gateway is ready, stop all
    on exit. Rate limits are lifted: a benchmark is one client sending a lot on purpose."""
    env = {"ATTUNE_NATS_URL": nats_url, "ATTUNE_MONGO_URL": db_url,
           "ATTUNE_ENVIRONMENT": "test", "ATTUNE_RATE_PER_SECOND": "100000",
           "ATTUNE_RATE_BURST": "100000", "ATTUNE_LOG_LEVEL": "WARNING",
           **(extra_env or {})}  # fmt: skip
    processes: dict[str, ManagedProcess] = {}
    ports = {s: free_port() for s in SERVICES}
    try:
        for service in SERVICES:
            processes[service] = start_service(
                service, env, ports[service], base / f"{service}.log"
            )
        for name, process in (extra_processes or {}).items():
            processes[name] = process.start()
        api = f"http://127.0.0.1:{ports['gateway']}"
        wait_ready(f"{api}/readyz", list(processes.values()), timeout=90)
        yield Running(api, processes)
    finally:
        for process in processes.values():
            process.stop()


async def member_with_relationship(api: str) -> tuple[dict[str, str], str]:
    """Sign up a fresh member and open a relationship: their auth headers and its id."""
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        signup = await http.post("/v1/auth/signup", json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.org", "password": "bench password 1",
            "display_name": "Bench", "timezone": "UTC"})  # fmt: skip
        signup.raise_for_status()
        headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        created = await http.post("/v1/relationships", json={}, headers=headers)
        created.raise_for_status()
        return headers, str(created.json()["id"])
