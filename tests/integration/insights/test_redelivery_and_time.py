"""A redelivered event changes nothing; a flag clears when its window passes, evaluated once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.checkin.settings import CheckinSettings
from services.insights import store
from services.insights.app import wire
from services.insights.settings import InsightsSettings
from shared.clock import ManualClock
from shared.consumer import PROCESSED
from shared.envelope import Visibility
from shared.messages import new_event
from shared.messages.checkin import ConflictLogged
from shared.nats import publish_event
from shared.runtime import ServiceRuntime
from shared.subjects import event_subject, relationship_events, stream_name
from tests.support.insights import without_own_evaluation_rounds
from tests.support.runtimes import running
from tests.support.streams import read_subject
from tests.support.waiting import eventually

T0 = datetime.now(UTC).replace(microsecond=0)


def conflict(n: int, at: datetime):
    data = ConflictLogged(conflict_id=f"c{n}", author_id="a", topic="t", intensity=2,
                          shut_down=True, occurred_at=at)  # fmt: skip
    return new_event(data, relationship_id="rel9", actor_id="a", visibility=Visibility.SHARED)


async def consumed(nats_client, namespace: str, durable: str) -> bool:
    info = await nats_client.jetstream().consumer_info(stream_name(namespace, "checkin"), durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_redelivered_event_changes_nothing(make_settings, nats_client, mongo):
    producer = ServiceRuntime(make_settings(CheckinSettings))
    runtime = ServiceRuntime(make_settings(InsightsSettings))
    wire(runtime)
    ns = producer.settings.namespace
    event = conflict(1, T0)
    async with running(producer, runtime):
        await publish_event(producer.broker, ns, event)
        subject = event_subject(ns, "checkin", "rel9", "conflict.logged")
        for copy in range(3):  # the same event again, as after the de-duplication window
            await nats_client.jetstream().publish(
                subject, event.to_json(), headers={"Nats-Msg-Id": f"again-{copy}"}
            )

        async def done() -> bool:
            try:
                return await consumed(nats_client, ns, "insights-aggregates-checkin")
            except Exception:
                return False

        await eventually(done, timeout=20)
        days = await store.load_days(runtime.db, "rel9")
        on_t0 = [d for d in days if d["day"] == T0.date().isoformat()]
        # (Seen once on a loaded machine: no day at all. What to look at if it comes back.)
        marked = await runtime.db[PROCESSED].count_documents({"_id": f"aggregates:{event.id}"})
        info = await nats_client.jetstream().consumer_info(
            stream_name(ns, "checkin"), "insights-aggregates-checkin"
        )
        assert len(on_t0) == 1, (
            f"days {days}, processed markers {marked}, delivered {info.delivered}, "
            f"acked {info.ack_floor}, pending {info.num_pending}/{info.num_ack_pending}"
        )
        (day,) = on_t0
        reports = await runtime.db.conflict_reports.find({"relationship_id": "rel9"}).to_list()
    assert day["conflict_reports"] == 1
    assert [(r["conflict_id"], r["shut_down"]) for r in reports] == [("c1", True)]


async def test_a_flag_clears_when_its_window_passes_and_only_one_replica_does_it(
    monkeypatch, make_settings, nats_client, mongo
):
    without_own_evaluation_rounds(monkeypatch)  # the test evaluates, at its clock's times
    clock = ManualClock(T0)
    producer = ServiceRuntime(make_settings(CheckinSettings))
    first = ServiceRuntime(make_settings(InsightsSettings, tick_seconds=3600))
    second = ServiceRuntime(make_settings(InsightsSettings, tick_seconds=3600))
    replica_a = wire(first, clock)
    replica_b = wire(second, clock)
    ns = producer.settings.namespace
    async with running(producer, first, second):
        for n in range(3):
            await publish_event(producer.broker, ns, conflict(n, T0 - timedelta(days=1)))

        async def applied() -> bool:
            return await first.db.conflict_reports.count_documents({"shut_down": True}) == 3

        await eventually(applied, timeout=20)
        clock.at = T0 + timedelta(seconds=5)  # past the short evaluation delay
        assert await replica_a.evaluate_due() == 1

        async def types() -> list[str]:
            events = await read_subject(
                nats_client,
                stream_name(ns, "insights"),
                relationship_events(ns, "insights", "rel9"),
            )
            return [f"{e['type']}:{e['data'].get('code', '')}" for e in events]

        async def raised() -> bool:
            return "insight.flag_raised:stonewalling" in await types()

        await eventually(raised, timeout=20)
        clock.at = T0 + timedelta(days=30)  # the three conflicts leave the 30-day window
        done = await asyncio.gather(replica_a.evaluate_due(), replica_b.evaluate_due())
        assert sorted(done) == [0, 1]  # one replica claimed it, the other found nothing due

        async def cleared() -> bool:
            return "insight.flag_cleared:stonewalling" in await types()

        await eventually(cleared, timeout=20)
        assert (await types()).count("insight.flag_cleared:stonewalling") == 1
