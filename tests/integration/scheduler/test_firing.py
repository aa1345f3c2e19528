"""The scheduler against real NATS and MongoDB, with a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler import domain, store
from shared import tombstones
from shared.messages import DecodedEvent, new_event
from shared.messages.checkin import CheckinLogged, RitualCreated
from shared.messages.gateway import MemberUpdated, RelationshipCreated
from shared.messages.insights import FlagCleared, FlagRaised
from tests.support.runtimes import running
from tests.support.samples import SAMPLES
from tests.support.scheduler_world import World, scheduler_world, until_scheduled
from tests.support.waiting import eventually

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
async def world(make_settings, nats_client, mongo) -> AsyncIterator[World]:
    async with scheduler_world(make_settings, T0) as built:
        yield built


def ritual(rule: str = "FREQ=DAILY", minutes: int = 30) -> RitualCreated:
    return RitualCreated(ritual_id="walk", created_by="m1", title="Walk", rrule=rule,
                         timezone="UTC", starts_at=datetime(2026, 11, 1, 10, 0),
                         duration_minutes=minutes)  # fmt: skip


def kinds(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


async def test_two_replicas_fire_each_occurrence_exactly_once(world: World, nats_client):
    (first, a), (second, b) = world.make_scheduler(), world.make_scheduler()  # type: ignore[operator]
    async with running(first, second):
        await world.publish("checkin", ritual(), "rel1")
        await until_scheduled(first, "ritual:walk")
        for day in range(5):
            for minute in (0, 31):  # the start, then the end of each occurrence
                world.clock.at = T0 + timedelta(days=day, hours=1, minutes=minute)
                await asyncio.gather(a.fire_due(), b.fire_due(), a.fire_due(), b.fire_due())
        events = await world.scheduler_events(nats_client)
    due = [e["data"]["occurrence"] for e in events if e["type"] == "ritual.due"]
    missed = [e["data"]["occurrence"] for e in events if e["type"] == "ritual.missed"]
    assert len(due) == len(set(due)) == 5
    assert sorted(missed) == sorted(due)  # no outcome was ever recorded


async def test_after_a_gap_what_is_within_grace_fires_once_and_the_rest_is_missed(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await world.publish("checkin", ritual(), "rel1")
        await until_scheduled(runtime, "ritual:walk")
        world.clock.at = T0 + timedelta(hours=1, minutes=5)  # day 0, 10:05
        await handlers.fire_due()
    # The scheduler is down for three days; it comes back at 10:10 on day 3.
    world.clock.at = T0 + timedelta(days=3, hours=1, minutes=10)
    restarted, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(restarted):
        await handlers.fire_due()

        async def fired() -> tuple[list[str], list[str]] | None:
            events = await world.scheduler_events(nats_client)
            due = [e["data"]["occurrence"][:10] for e in events if e["type"] == "ritual.due"]
            missed = [e["data"]["occurrence"][:10] for e in events if e["type"] == "ritual.missed"]
            return (due, missed) if len(due) + len(missed) >= 5 else None

        due, missed = await eventually(fired, timeout=20)
        # Nothing more arrives: another round fires nothing, and once the outbox is empty
        # everything either round produced is on the stream.
        await handlers.fire_due()
        relay = restarted.relay
        assert relay is not None

        async def published() -> bool:
            return await relay.pending_count() == 0

        await eventually(published, timeout=20)
        assert await fired() == (due, missed)
    assert due == ["2026-11-02", "2026-11-05"]
    assert missed == ["2026-11-02", "2026-11-03", "2026-11-04"]


async def test_burnout_makes_reminders_back_off_until_it_clears(world: World, nats_client):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        created = RelationshipCreated(created_by="m1", members=["m1"], membership_version=1)
        await world.publish("gateway", created, "rel1")
        await world.publish("gateway", MemberUpdated(member_id="m1", timezone="UTC",
                                                     checkin_reminder_time="20:00"), None,
                            private=True)  # fmt: skip
        await until_scheduled(runtime, "reminder:m1")
        await eventually(
            lambda: runtime.db.memberships.count_documents({"_id": "rel1"}), timeout=20
        )

        async def days(count: int, start: int) -> int:
            before = len([e for e in await world.scheduler_events(nats_client)
                          if e["type"] == "reminder.due"])  # fmt: skip
            for day in range(start, start + count):
                world.clock.at = T0 + timedelta(days=day, hours=11, minutes=1)
                await handlers.fire_due()

            async def all_published() -> bool:  # the relay publishes a moment after the write
                assert runtime.relay is not None
                return await runtime.relay.pending_count() == 0

            await eventually(all_published, timeout=20)
            after = [
                e for e in await world.scheduler_events(nats_client) if e["type"] == "reminder.due"
            ]
            return len(after) - before

        assert await days(3, 0) == 3
        raised = FlagRaised(code="intimacy_burnout", rule_version=1, severity="warning",
                            evidence={}, suggestion="rest", raised_at=T0)  # fmt: skip
        await world.publish("insights", raised, "rel1")
        await eventually(lambda: runtime.db.backoff.count_documents({"_id": "rel1"}), timeout=20)
        assert await days(9, 3) == 3  # one in three days while burnout shows
        cleared = FlagCleared(code="intimacy_burnout", rule_version=1, raised_at=T0, cleared_at=T0)
        await world.publish("insights", cleared, "rel1")

        async def lifted() -> bool:
            return await runtime.db.backoff.count_documents({"_id": "rel1"}) == 0

        await eventually(lifted, timeout=20)
        assert await days(3, 12) == 3


async def test_a_checkin_flag_is_not_written_for_a_member_erased_while_its_batch_was_on_its_way(
    world: World,
):
    """The batch's own tombstone read happened before the erasure committed: the write looks
    again, in its transaction, and leaves the erased member's day unmarked."""
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]

    def logged(author: str) -> DecodedEvent:
        data = CheckinLogged.model_validate({**SAMPLES["checkin.logged"], "author_id": author,
                                             "occurred_at": T0})  # fmt: skip
        return DecodedEvent(new_event(data, relationship_id="rel1", actor_id=author), data)

    async with running(runtime):
        db = runtime.db
        await runtime.transact(lambda session: tombstones.bury_member(db, session, "gone", T0))
        await handlers.flag_checkins([logged("gone"), logged("stays")])
        assert await store.checked_in(db, domain.checkin_key("stays", T0.date()))
        assert not await store.checked_in(db, domain.checkin_key("gone", T0.date()))
