"""With NATS stopped mid-test, writes answer 503 with Retry-After; after restart they succeed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.api import couple
from tests.support.system import running_system
from tests.support.waiting import eventually


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

            async def accepted_again() -> Any:
                retried = await zoe.post(url, body, key="while-down")
                return retried if retried.status_code != 503 else None

            retried = await eventually(accepted_again, timeout=30, interval=0.5)
            assert retried.status_code == 201, retried.text
            timeline = await ada.ok("GET", f"/v1/relationships/{rid}/timeline")
            assert [e["id"] for e in timeline["entries"]] == [retried.json()["id"]]
        for name, process in system.processes.items():
            assert process.alive(), f"{name} died"
