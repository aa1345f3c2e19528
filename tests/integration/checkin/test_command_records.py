"""Command records (a command's keyed fingerprint and its result) answer retries for
`command_record_ttl_hours`, then go; a repeat after that is refused, never recorded twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.checkin.app import wire
from services.checkin.handlers import CheckinHandlers
from services.checkin.settings import CheckinSettings
from services.checkin.store import COMMANDS as OLD_COMMANDS
from services.checkin.store import ENTRIES
from shared.clock import ManualClock
from shared.problems import Conflict
from shared.rpc import RpcClient
from shared.runtime import ServiceRuntime
from tests.support.checkin import Member
from tests.support.runtimes import running

TTL = timedelta(hours=2)


@pytest.fixture
async def clocked(
    make_settings, nats_client, mongo
) -> AsyncIterator[tuple[ServiceRuntime, CheckinHandlers, ManualClock]]:
    clock = ManualClock(datetime.now(UTC))
    runtime = ServiceRuntime(make_settings(CheckinSettings, command_record_ttl_hours=2))
    handlers = wire(runtime, clock)
    async with running(runtime):
        yield runtime, handlers, clock


async def test_command_records_are_gone_after_their_ttl_and_a_late_repeat_is_refused(clocked):
    runtime, handlers, clock = clocked
    db = runtime.db
    rpc = RpcClient(runtime.broker, runtime.settings.namespace, timeout=5)
    alice = Member(rpc, "alice", "rel1", ["alice", "bo"])
    bo = Member(rpc, "bo", "rel1", ["alice", "bo"])
    old = await alice.cmd("log_checkin", command_id="old-1", mood=2, connection=4)
    bid = await alice.cmd("make_bid", command_id="old-2", to_member_id="bo", kind="help",
                          channel="call")  # fmt: skip
    # A record from an earlier version, kept in its own collection.
    await db[OLD_COMMANDS].insert_one({"_id": "legacy-1", "actor": "alice",
                                       "at": clock.now(), "result": {"mood": 2}})  # fmt: skip
    assert (await alice.cmd("log_checkin", command_id="old-1", mood=2, connection=4)).id == old.id

    clock.advance(TTL - timedelta(minutes=1))
    answer = await bo.cmd("answer_bid", command_id="young-1", bid_id=bid.id, response="toward")
    assert await handlers.prune_command_records() == 0  # nothing is old enough yet
    clock.advance(timedelta(minutes=2))  # the first two are past the TTL, the answer is not
    assert await handlers.prune_command_records() == 2

    checkin = await db[ENTRIES].find_one({"_id": old.id})
    assert checkin is not None and checkin["commands"] == []  # no fingerprint, no result
    stored_bid = await db[ENTRIES].find_one({"_id": bid.id})
    assert stored_bid is not None
    assert [c["id"] for c in stored_bid["commands"]] == ["young-1"]
    assert await db[OLD_COMMANDS].count_documents({}) == 0

    # A late repeat is refused in the open, and records nothing twice.
    with pytest.raises(Conflict) as refused:
        await alice.cmd("log_checkin", command_id="old-1", mood=2, connection=4)
    assert refused.value.code == "already_recorded"
    assert await db[ENTRIES].count_documents({"kind": "checkin"}) == 1
    # The answer's record is young: its repeat still gets its first answer.
    again = await bo.cmd("answer_bid", command_id="young-1", bid_id=bid.id, response="toward")
    assert again == answer
