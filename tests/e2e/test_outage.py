"""With NATS stopped mid-test, writes answer 503 with Retry-After; after restart they succeed."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support.api import couple
from tests.support.system import running_system


@pytest.mark.slow
async def test_writes_are_503_while_nats_is_down_and_succeed_after(
    restartable_nats, servers, tmp_path
):
    namespace = f"o{uuid.uuid4().hex[:10]}"
    with running_system(
        restartable_nats.url, servers.mongo_url, namespace, tmp_path / "logs",
        anonymous_rate_per_second="1000", anonymous_rate_burst="1000",
    ) as system:  # fmt: skip
        async with httpx.AsyncClient(base_url=system.api, timeout=20) as http:
            rid, (zoe, ada) = await couple(http, "Zoe", "Ada")
            url = f"/v1/relationships/{rid}/checkins"
            body = {"mood": 4, "connection": 7, "visibility": "shared"}

            restartable_nats.stop()
            down = await zoe.post(url, body, key="while-down")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert int(down.headers["retry-after"]) >= 1

            restartable_nats.start()
            for _ in range(60):
                retried = await zoe.post(url, body, key="while-down")
                if retried.status_code != 503:
                    break
                await asyncio.sleep(0.5)
            assert retried.status_code == 201, retried.text
            timeline = await ada.ok("GET", f"/v1/relationships/{rid}/timeline")
            assert [e["id"] for e in timeline["entries"]] == [retried.json()["id"]]
        for name, process in system.processes.items():
            assert process.alive(), f"{name} died"
