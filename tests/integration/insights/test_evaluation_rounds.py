"""The evaluation tick takes every relationship that is due in one round, and a
relationship that cannot be evaluated holds up no other and is tried again shortly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.checkin.settings import CheckinSettings
from services.insights.app import wire
from services.insights.months import MONTHS
from services.insights.settings import InsightsSettings
from shared.clock import ManualClock
from shared.envelope import Visibility
from shared.messages import new_event
from shared.messages.checkin import ConflictLogged
from shared.nats import publish_event
from shared.runtime import ServiceRuntime
from tests.support.insights import without_own_evaluation_rounds
from tests.support.runtimes import running
from tests.support.waiting import eventually

T0 = datetime.now(UTC).replace(microsecond=0)
RELATIONSHIPS = ("relA", "relB", "relC")


def conflict(rid: str, n: int):
    data = ConflictLogged(conflict_id=f"{rid}-c{n}", author_id="a", topic="t", intensity=2,
                          shut_down=True, occurred_at=T0 - timedelta(days=1))  # fmt: skip
    return new_event(data, relationship_id=rid, actor_id="a", visibility=Visibility.SHARED)


async def test_due_relationships_are_evaluated_together_and_a_broken_one_alone(
    monkeypatch, make_settings, mongo
):
    without_own_evaluation_rounds(monkeypatch)  # the test evaluates, at its clock's times
    clock = ManualClock(T0)
    producer = ServiceRuntime(make_settings(CheckinSettings))
    runtime = ServiceRuntime(make_settings(InsightsSettings, tick_seconds=3600))
    handlers = wire(runtime, clock)
    async with running(producer, runtime):
        db = runtime.db
        for rid in RELATIONSHIPS:
            for n in range(3):  # three conflicts with a shut-down: stonewalling
                await publish_event(producer.broker, producer.settings.namespace, conflict(rid, n))

        async def applied() -> bool:
            return await db.conflict_reports.count_documents({"shut_down": True}) == 9

        await eventually(applied, timeout=20)
        # relC's aggregates hold a day that cannot be read: its evaluation fails.
        month = T0.date().isoformat()[:7]
        await db[MONTHS].update_one(
            {"_id": f"relC:{month}"},
            {"$set": {"relationship_id": "relC", "month": month, "members.a.xx": {"checkins": 1}}},
            upsert=True,
        )
        clock.at = T0 + timedelta(seconds=5)  # past the short evaluation delay

        assert await handlers.evaluate_due() == 3  # all three claimed in one round
        states = {d["_id"]: d for d in await db.state.find().to_list()}
        for rid in ("relA", "relB"):
            assert [f["code"] for f in states[rid]["flags"].values()] == ["stonewalling"]
        assert "relC" not in states
        # The two evaluated are claimed until the time-based re-evaluation; the broken one is
        # asked for again shortly (not an hour on, as its claim had it).
        assert await handlers.evaluate_due() == 0
        clock.at += timedelta(seconds=handlers.settings.evaluation_retry_seconds)
        due = await db.relationships.find({"next_eval_at": {"$lte": clock.at}}).to_list()
        assert [d["_id"] for d in due] == ["relC"]
        with pytest.raises(ValueError):  # alone, its failure is the round's (and logged so)
            await handlers.evaluate_due()
        clock.at += timedelta(seconds=handlers.settings.evaluation_retry_seconds)
        due = await db.relationships.find({"next_eval_at": {"$lte": clock.at}}).to_list()
        assert [d["_id"] for d in due] == ["relC"]  # and asked for again all the same
