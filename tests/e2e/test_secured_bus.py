"""The whole system works with every service as its own least-privileged NATS user: commands,
queries, events between services and the live stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from deploy.nats_auth import write_embedded_config
from deploy.processes import free_port
from deploy.servers import start_nats
from tests.e2e.test_journey import test_two_people_build_a_week_together as journey
from tests.support.api import couple
from tests.support.system import System, running_system


@pytest.fixture(scope="module")
def secured_system(servers, tmp_path_factory) -> Iterator[System]:
    base = tmp_path_factory.mktemp("secured-bus")
    namespace = f"s{uuid.uuid4().hex[:10]}"
    port = free_port()
    config, passwords = write_embedded_config(base, namespace, port, base / "store")
    nats_server = start_nats(port, base / "store", base / "nats.log", config=config)
    try:
        with running_system(
            f"nats://127.0.0.1:{port}", servers.mongo_url, namespace, base / "logs",
            nats_users=passwords, stream_heartbeat_seconds="1",
            anonymous_rate_per_second="1000", anonymous_rate_burst="1000",
            ops_token="ops-secured-bus",
        ) as running:  # fmt: skip
            yield running
    finally:
        nats_server.stop()


@pytest.fixture
async def secured_http(secured_system) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=secured_system.api, timeout=10) as client:
        yield client


async def test_the_journey_works_with_least_privileged_nats_users(secured_http):
    await journey(secured_http)  # type: ignore[no-untyped-call]


async def test_the_live_stream_works_with_least_privileged_nats_users(secured_http):
    rid, (sam, kim) = await couple(secured_http, "Sam", "Kim")
    path = f"/v1/relationships/{rid}/stream"
    async with secured_http.stream("GET", path, headers=kim.headers, timeout=20) as stream:
        assert stream.status_code == 200
        await sam.ok("POST", f"/v1/relationships/{rid}/checkins",
                     {"mood": 4, "connection": 7, "visibility": "shared"})  # fmt: skip
        async for line in stream.aiter_lines():
            if line.startswith("event: checkin.logged"):
                break


async def test_the_ops_figures_work_with_least_privileged_nats_users(secured_http):
    summary = await secured_http.get(
        "/ops/summary", headers={"Authorization": "Bearer ops-secured-bus"}
    )
    assert summary.status_code == 200, summary.text
    assert "streams" in summary.json()
