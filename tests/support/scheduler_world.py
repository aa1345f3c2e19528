"""A scheduler on a clock the test moves, beside producers that publish what it consumes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from services.checkin.settings import CheckinSettings
from services.gateway.settings import GatewaySettings
from services.insights.settings import InsightsSettings
from services.scheduler import app as scheduler_app
from services.scheduler.app import wire as wire_scheduler
from services.scheduler.handlers import SchedulerHandlers
from services.scheduler.settings import SchedulerSettings
from shared.clock import ManualClock
from shared.envelope import Visibility
from shared.messages import new_event
from shared.messages.base import EventData
from shared.nats import publish_event
from shared.runtime import ServiceRuntime
from shared.subjects import owner_events, stream_name
from tests.support.own_rounds import without_own_rounds
from tests.support.runtimes import running
from tests.support.streams import read_subject
from tests.support.waiting import eventually


@dataclass
class World:
    producers: dict[str, ServiceRuntime]
    make_scheduler: object
    clock: ManualClock
    namespace: str

    async def publish(
        self,
        owner: str,
        data: EventData,
        rid: str | None,
        private: bool = False,
        actor: str = "m1",
    ) -> None:
        visibility = Visibility.PRIVATE if private else Visibility.SHARED
        envelope = new_event(data, relationship_id=rid, actor_id=actor, visibility=visibility)
        await publish_event(self.producers[owner].broker, self.namespace, envelope)

    async def scheduler_events(self, nats_client) -> list[dict]:
        ns = self.namespace
        return await read_subject(
            nats_client, stream_name(ns, "scheduler"), owner_events(ns, "scheduler")
        )


@asynccontextmanager
async def scheduler_world(make_settings: Callable[..., Any], t0: datetime) -> AsyncIterator[World]:
    producers = {
        "checkin": ServiceRuntime(make_settings(CheckinSettings)),
        "gateway": ServiceRuntime(make_settings(GatewaySettings)),
        "insights": ServiceRuntime(make_settings(InsightsSettings)),
    }
    clock = ManualClock(t0)

    def make_scheduler() -> tuple[ServiceRuntime, SchedulerHandlers]:
        runtime = ServiceRuntime(make_settings(SchedulerSettings, tick_seconds=3600))
        return runtime, wire_scheduler(runtime, clock)

    # The test fires what is due itself (`fire_due`), at its clock's times: no tick of the
    # scheduler's own runs beside it.
    with pytest.MonkeyPatch.context() as patch:
        without_own_rounds(patch, scheduler_app)
        async with running(*producers.values()):
            yield World(producers, make_scheduler, clock, producers["checkin"].settings.namespace)


async def until_scheduled(runtime: ServiceRuntime, schedule_id: str) -> None:
    async def there() -> bool:
        return await runtime.db.schedules.count_documents({"_id": schedule_id}) == 1

    await eventually(there, timeout=20)
