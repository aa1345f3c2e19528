"""Two processes of every service on one NATS and one MongoDB: work spreads, nothing twice."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.insights import store
from shared.subjects import database_name
from tests.support.api import couple
from tests.support.system import running_system
from tests.support.waiting import eventually

CHECKINS = 40


def metric(text: str, metric_name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(metric_name + "{") and all(
            f'{k}="{v}"' in line for k, v in labels.items()
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def metrics_of(urls: list[str]) -> list[str]:
    async with httpx.AsyncClient(timeout=5) as client:
        return [(await client.get(f"{url}/metrics")).text for url in urls]


@pytest.mark.slow
async def test_two_replicas_of_each_service_share_the_work_and_do_nothing_twice(servers, tmp_path):
    namespace = f"r{uuid.uuid4().hex[:10]}"
    with running_system(
        servers.nats_url, servers.mongo_url, namespace, tmp_path / "logs", replicas=2,
        anonymous_rate_per_second="1000", anonymous_rate_burst="1000",
    ) as system:  # fmt: skip
        gateways = system.urls("gateway")
        async with httpx.AsyncClient(base_url=gateways[0], timeout=20) as first, \
                httpx.AsyncClient(base_url=gateways[1], timeout=20) as second:  # fmt: skip
            rid, (ann, ben) = await couple(first, "Ann", "Ben")
            ben.http = second  # Ben's app talks to the other gateway
            url = f"/v1/relationships/{rid}/checkins"
            body = {"mood": 4, "connection": 7, "visibility": "shared"}
            await asyncio.gather(*(
                (ann if i % 2 else ben).post(url, body, key=f"c-{i}") for i in range(CHECKINS)
            ))  # fmt: skip
            statuses = [
                (await (ann if i % 2 else ben).post(url, body, key=f"c-{i}")).status_code
                for i in range(CHECKINS)
            ]
            assert set(statuses) == {201}  # replays of the same keys, from either gateway

        client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url)

        async def all_counted() -> bool:
            days = await store.load_days(client[database_name(namespace, "insights")])
            return sum(d.get("checkins", 0) for d in days) == CHECKINS

        await eventually(all_counted, timeout=40)
        stored = await client[database_name(namespace, "checkin")].entries.count_documents(
            {"kind": "checkin"}
        )
        await client.close()
        checkin_metrics = await metrics_of(system.urls("checkin"))
        insights_metrics = await metrics_of(system.urls("insights"))

    assert stored == CHECKINS
    handled = [metric(m, "attune_rpc_handled_total", name="log_checkin") for m in checkin_metrics]
    assert all(n > 0 for n in handled), handled  # both checkin replicas answered commands
    applied = [
        metric(m, "attune_events_consumed_total", consumer="insights-aggregates-checkin",
               outcome="applied")
        for m in insights_metrics
    ]  # fmt: skip
    assert all(n > 0 for n in applied), applied  # both insights replicas took events
    assert sum(applied) == CHECKINS  # each check-in event consumed once across the two
