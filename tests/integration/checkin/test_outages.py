"""With NATS or MongoDB away, callers get a clean typed error, and nothing is half-written."""

from __future__ import annotations

import nats
import pytest
from faststream.nats import NatsBroker

from services.checkin.app import create_runtime
from services.checkin.settings import CheckinSettings
from services.checkin.store import ENTRIES
from shared.problems import Unavailable
from shared.rpc import RpcClient
from tests.support.checkin import Member, checkin_events
from tests.support.runtimes import running
from tests.support.waiting import eventually


@pytest.mark.slow
async def test_with_nats_down_callers_get_unavailable_and_all_works_after(
    restartable_nats, make_settings, mongo
):
    settings = make_settings(CheckinSettings, nats_url=restartable_nats.url)
    runtime = create_runtime(settings)
    caller = NatsBroker(restartable_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=1)
    await caller.connect()
    alice = Member(
        RpcClient(caller, settings.namespace, timeout=1), "alice", "rel1", ["alice", "bo"]
    )
    try:
        async with running(runtime):
            await alice.cmd("log_touch", kind="hug", sexual=False)
            restartable_nats.stop()
            with pytest.raises(Unavailable):
                await alice.cmd("log_touch", command_id="during", kind="kiss", sexual=False)
            restartable_nats.start()

            async def works_again() -> bool:
                try:
                    await alice.cmd("log_touch", command_id="during", kind="kiss", sexual=False)
                except Unavailable:
                    return False
                return True

            await eventually(works_again, timeout=30)
            assert await runtime.db[ENTRIES].count_documents({}) == 2

            async def both_published() -> bool:
                async with await nats.connect(restartable_nats.url) as client:
                    return len(await checkin_events(client, settings.namespace, "rel1")) == 2

            await eventually(both_published, timeout=30)
    finally:
        await caller.stop()


@pytest.mark.slow
async def test_with_mongodb_down_a_command_is_unavailable_and_nothing_is_half_written(
    restartable_mongo, make_settings, nats_client
):
    settings = make_settings(
        CheckinSettings, mongo_url=restartable_mongo.url, mongo_timeout_seconds=1
    )
    runtime = create_runtime(settings)
    async with running(runtime):
        alice = Member(RpcClient(runtime.broker, settings.namespace, timeout=8), "alice", "rel1",
                       ["alice", "bo"])  # fmt: skip
        await alice.cmd("log_checkin", mood=3, connection=6)
        restartable_mongo.stop()
        with pytest.raises(Unavailable):
            await alice.cmd("log_checkin", command_id="retry-me", mood=4, connection=7)
        restartable_mongo.start()

        async def works_again() -> bool:
            try:
                await alice.cmd("log_checkin", command_id="retry-me", mood=4, connection=7)
            except Unavailable:
                return False
            return True

        await eventually(works_again, timeout=30)
        db = runtime.db
        assert await db[ENTRIES].count_documents({}) == 2
        # Each command is one document: the entry, its command record and (until the relay
        # published it) its event.
        assert await db[ENTRIES].count_documents({"commands": {"$size": 1}}) == 2
        assert await db[ENTRIES].count_documents({"commands.id": "retry-me"}) == 1

        async def both_published() -> bool:
            events = await checkin_events(nats_client, settings.namespace, "rel1")
            return len(events) == 2

        await eventually(both_published, timeout=30)
