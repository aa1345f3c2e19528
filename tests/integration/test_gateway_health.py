"""The gateway's health endpoints tell the truth about NATS, MongoDB and every service."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from services.checkin.app import create_runtime as checkin_runtime
from services.checkin.settings import CheckinSettings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.insights.app import create_runtime as insights_runtime
from services.insights.settings import InsightsSettings
from services.scheduler.app import create_runtime as scheduler_runtime
from services.scheduler.settings import SchedulerSettings
from tests.support.gateway import http
from tests.support.runtimes import running
from tests.support.waiting import eventually


async def test_readyz_is_503_with_retry_after_while_services_are_missing(
    make_settings, nats_client, mongo
):
    app = create_app(make_settings(GatewaySettings, readiness_timeout_seconds=0.3))
    async with http(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    checks = response.json()["checks"]
    assert checks["nats"] is True and checks["mongodb"] is True
    assert checks["service:checkin"] is False


async def test_readyz_is_200_when_everything_answers(make_settings, nats_client, mongo):
    services = [
        checkin_runtime(make_settings(CheckinSettings)),
        scheduler_runtime(make_settings(SchedulerSettings)),
        insights_runtime(make_settings(InsightsSettings)),
    ]
    app = create_app(make_settings(GatewaySettings, ops_token="ops-token"))
    async with http(app) as client, running(*services):

        async def ready() -> httpx.Response | None:
            response = await client.get("/readyz")
            return response if response.status_code == 200 else None

        response = await eventually(ready)  # consumers bind as the others' streams appear
        metrics = await client.get("/metrics", headers={"Authorization": "Bearer ops-token"})
        anonymous = await client.get("/metrics")
    assert response.status_code == 200, response.json()
    assert all(response.json()["checks"].values())
    assert "attune_rpc_handled_total" in metrics.text
    # Per-route request counts would show when members write: not for anyone but operators.
    assert anonymous.status_code == 401


async def test_unknown_paths_are_problem_json(make_settings, nats_client, mongo):
    app = create_app(make_settings(GatewaySettings))
    async with http(app) as client:
        response = await client.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_the_gateway_counts_each_event_once_for_the_ops_figures(
    make_settings, nats_client, mongo
):
    from nats.js.errors import NotFoundError

    from services.gateway import store
    from shared.messages import new_event
    from shared.messages.gateway import RelationshipCreated
    from shared.nats import publish_event

    app = create_app(make_settings(GatewaySettings))
    runtime = app.state.runtime
    event = new_event(
        RelationshipCreated(created_by="a", members=["a"], membership_version=1),
        relationship_id="r1",
        actor_id="a",
    )
    async with http(app):
        await publish_event(runtime.broker, runtime.settings.namespace, event)
        js = nats_client.jetstream()
        subject = f"{runtime.settings.namespace}.gateway.evt.r1.relationship.created"
        await js.publish(subject, event.to_json(), headers={"Nats-Msg-Id": "replayed"})

        async def counted() -> dict[str, int] | None:
            try:
                info = await js.consumer_info(
                    f"{runtime.settings.namespace}_GATEWAY".upper(), "gateway-ops-gateway"
                )
            except NotFoundError:
                return None  # not bound yet
            done = info.num_pending == 0 and info.num_ack_pending == 0
            return await store.event_counts(runtime.db) if done else None

        counts = await eventually(counted)
    assert counts == {"relationship.created": 1}


def all_threads_stopped(pid: int) -> bool:
    """Whether every thread of the process is in the stopped state ('T' in /proc)."""
    tasks = Path(f"/proc/{pid}/task")
    return all(
        (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "T" for task in tasks.iterdir()
    )


async def test_readyz_answers_not_ready_while_mongodb_has_stalled(make_settings, restartable_mongo):
    # A server that holds its connections but answers nothing (here: stopped with SIGSTOP)
    # must make readiness say so, not keep it waiting.
    app = create_app(make_settings(GatewaySettings, mongo_url=restartable_mongo.url,
                                   readiness_timeout_seconds=0.3))  # fmt: skip
    assert restartable_mongo.process is not None and restartable_mongo.process.process is not None
    pid = restartable_mongo.process.process.pid
    async with http(app) as client:
        assert (await client.get("/readyz")).json()["checks"]["mongodb"] is True
        os.kill(pid, signal.SIGSTOP)
        try:
            # The stop reaches each thread when it next runs: on a loaded machine a thread
            # may still answer a moment after kill() returned (seen once beside a busy loop).
            await eventually(lambda: all_threads_stopped(pid))
            response = await asyncio.wait_for(client.get("/readyz"), timeout=10)
        finally:
            os.kill(pid, signal.SIGCONT)

        async def mongodb_back() -> bool:
            return (await client.get("/readyz")).json()["checks"]["mongodb"] is True

        await eventually(mongodb_back)
    assert response.status_code == 503
    assert response.json()["checks"]["mongodb"] is False
