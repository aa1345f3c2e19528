"""The outbox: facts are written while NATS is away and their events arrive exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from nats.js.errors import NoStreamResponseError
from pymongo import AsyncMongoClient

from deploy.processes import PROJECT_ROOT
from services.checkin.settings import CheckinSettings
from shared.messages import new_event
from shared.messages.checkin import TouchLogged
from shared.mongo import Session, create_client, in_transaction
from shared.nats import declare_stream, event_stream_config
from shared.outbox import (
    EVENTS,
    EVENTS_SEQ,
    LEASES,
    OUTBOX,
    Outbox,
    OutboxRelay,
    embed,
    ensure_embedded_index,
    push,
)
from shared.runtime import ServiceRuntime
from shared.subjects import owner_events, stream_name
from tests.integration.test_mongo_client import Started
from tests.support.samples import SAMPLES
from tests.support.streams import read_subject
from tests.support.waiting import eventually


def touch(index: int):
    data = TouchLogged.model_validate({**SAMPLES["touch.logged"], "touch_id": f"t{index}"})
    return new_event(data, relationship_id="r1", actor_id="m_alice")


async def write_facts(runtime: ServiceRuntime, count: int) -> list[str]:
    """What a command handler does: the fact and its event in one transaction."""
    ids = []
    for index in range(count):
        event = touch(index)

        async def work(session: Session, event=event) -> None:
            await runtime.db.touches.insert_one({"_id": event.data["touch_id"]}, session=session)
            await runtime.outbox.add(session, event)

        await runtime.transact(work)
        ids.append(event.id)
    return ids


async def delivered_ids(nats_url: str, namespace: str) -> list[str]:
    """Every message on the checkin stream, read back by a fresh consumer."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream_name(namespace, "checkin"))
        sub = await js.pull_subscribe(owner_events(namespace, "checkin"), durable=None)
        ids: list[str] = []
        while len(ids) < info.state.messages:
            for message in await sub.fetch(info.state.messages - len(ids), timeout=2):
                ids.append(message.headers["Nats-Msg-Id"])
                await message.ack()
        return ids
    finally:
        await connection.close()


@pytest.mark.slow
async def test_facts_are_kept_while_nats_is_down_and_published_exactly_once_after(
    restartable_nats, make_settings, mongo
):
    settings = make_settings(CheckinSettings, nats_url=restartable_nats.url)
    runtime = ServiceRuntime(settings)
    await runtime.start()
    try:
        restartable_nats.stop()
        ids = await write_facts(runtime, 20)
        assert await runtime.db.touches.count_documents({}) == 20
        assert await runtime.db[OUTBOX].count_documents({"status": "pending"}) == 20

        restartable_nats.start()

        async def all_sent() -> bool:
            return await runtime.db[OUTBOX].count_documents({"status": "pending"}) == 0

        await eventually(all_sent, timeout=30)
        published = await delivered_ids(restartable_nats.url, settings.namespace)
    finally:
        await runtime.stop()
    assert sorted(published) == sorted(ids)
    assert len(published) == len(set(published)) == 20


@pytest.mark.slow
async def test_a_relay_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    make_settings, servers, mongo, nats_client
):
    settings = make_settings(CheckinSettings)
    client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url, tz_aware=True)
    db = client[settings.database_name]
    outbox = Outbox(db, settings.namespace)
    await outbox.ensure_indexes()
    await declare_stream(nats_client, event_stream_config(settings, "checkin"))
    events = [touch(i) for i in range(40)]

    async def work(session: Session) -> None:
        await outbox.add(session, *events)

    await in_transaction(client, work)

    relay = subprocess.Popen(  # noqa: ASYNC220 - a real process, to SIGKILL it
        [sys.executable, "-m", "tests.support.relay_process", servers.mongo_url,
         settings.database_name, servers.nats_url, stream_name(settings.namespace, "checkin")],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert relay.stdout is not None
    for _ in range(10):  # let it publish part of the batch, then kill it without warning
        assert relay.stdout.readline().startswith("published")
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    assert await db[OUTBOX].count_documents({"status": "pending"}) == 40  # none marked yet

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await nats_client.jetstream().publish(
            subject, body, stream=stream_name(settings.namespace, "checkin"),
            headers={"Nats-Msg-Id": event_id},
        )  # fmt: skip

    successor = OutboxRelay(db, publish, lease_seconds=1)
    # The dead relay's lease runs out; until then the successor publishes nothing.
    await eventually(successor.run_once, timeout=10)
    while await successor.run_once():
        pass
    published = await delivered_ids(servers.nats_url, settings.namespace)
    pending = await db[OUTBOX].count_documents({"status": "pending"})
    await client.close()
    assert pending == 0
    assert published == [e.id for e in events]  # each once, in write order


async def test_only_one_relay_holds_the_lease_at_a_time(make_settings, servers, mongo):
    settings = make_settings(CheckinSettings)
    client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url, tz_aware=True)
    db = client[settings.database_name]

    async def never(*_args) -> None:
        raise AssertionError("nothing to publish")

    first, second = OutboxRelay(db, never), OutboxRelay(db, never)
    assert await first.acquire_lease() is True
    assert await second.acquire_lease() is False
    assert await first.acquire_lease() is True  # renewing its own lease
    await first.release_lease()
    assert await second.acquire_lease() is True
    await client.close()


async def test_a_write_in_a_replica_without_the_lease_is_published_at_once_by_the_holder(
    make_settings, mongo, nats_client
):
    # Long safety timers: only the wake over NATS can make this quick.
    settings = make_settings(CheckinSettings, outbox_poll_seconds=60, outbox_lease_seconds=30)
    first, second = ServiceRuntime(settings), ServiceRuntime(settings)
    await first.start()
    await second.start()
    try:
        assert first.relay is not None and second.relay is not None
        owners = {first.relay.relay_id: first, second.relay.relay_id: second}

        async def holder() -> ServiceRuntime | None:
            lease = await first.db[LEASES].find_one({"_id": "relay"})
            return owners.get(lease["owner"]) if lease else None

        holding = await eventually(holder)
        other = second if holding is first else first
        started = asyncio.get_running_loop().time()
        ids = await write_facts(other, 3)

        async def published() -> bool:
            found = await read_subject(
                nats_client, stream_name(settings.namespace, "checkin"),
                owner_events(settings.namespace, "checkin"),
            )  # fmt: skip
            return sorted(e["id"] for e in found) == sorted(ids)

        await eventually(published, timeout=10)
        assert asyncio.get_running_loop().time() - started < 10  # not the 60 s safety timer
        assert await holder() is holding  # the holder published them; the lease never moved
    finally:
        await second.stop()
        await first.stop()


async def test_events_embedded_in_a_document_count_in_the_oldest_pending_age(
    make_settings, servers, mongo, nats_client
):
    """Checkin writes its events into its own documents: the outbox-backing-up alert must
    see them waiting, not only the `outbox` rows."""
    settings = make_settings(CheckinSettings)
    db = mongo[settings.database_name]
    await ensure_embedded_index(db.entries)
    stream = stream_name(settings.namespace, "checkin")

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await nats_client.jetstream().publish(
            subject, body, stream=stream, headers={"Nats-Msg-Id": event_id}
        )

    relay = OutboxRelay(db, publish, embedded=["entries"])
    assert await relay.oldest_pending_age(datetime.now(UTC)) == 0.0
    # Written ten minutes ago: the first event's time at write is what EVENTS_SEQ holds.
    document = embed(settings.namespace, {"_id": "e1"}, [touch(1)])
    ten_minutes_ago = document[EVENTS_SEQ] - 600 * 10**9
    document[EVENTS_SEQ] = document[EVENTS][0]["seq"] = ten_minutes_ago
    await db.entries.insert_one(document)

    # The stream does not exist yet, so the relay cannot publish and the event waits.
    with pytest.raises(NoStreamResponseError):
        await relay.run_once()
    age = await relay.oldest_pending_age(datetime.now(UTC))
    assert 600 <= age < 660
    assert await relay.pending_count() == 1

    await declare_stream(nats_client, event_stream_config(settings, "checkin"))
    assert await relay.run_once() == 1
    assert await relay.oldest_pending_age(datetime.now(UTC)) == 0.0
    assert await relay.pending_count() == 0


@dataclass
class Watched:
    """A checkin database whose commands are seen, and a publish onto a declared stream."""

    settings: CheckinSettings
    db: Any
    seen: Started
    publish: Callable[[str, str, bytes], Awaitable[None]]


@pytest.fixture
async def watched(make_settings, servers, nats_client) -> AsyncIterator[Watched]:
    settings = make_settings(CheckinSettings)
    seen = Started()
    client = create_client(servers.mongo_url, "relay-test", listeners=[seen])
    db = client[settings.database_name]
    await ensure_embedded_index(db.entries)
    stream = stream_name(settings.namespace, "checkin")
    await declare_stream(nats_client, event_stream_config(settings, "checkin"))

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await nats_client.jetstream().publish(
            subject, body, stream=stream, headers={"Nats-Msg-Id": event_id}
        )

    try:
        yield Watched(settings, db, seen, publish)
    finally:
        await client.drop_database(settings.database_name)
        await client.close()


async def test_a_batch_of_embedded_events_is_marked_in_one_update_and_a_document_that_gained_events_stays_pending(  # noqa: E501
    watched, servers
):
    """The relay marks the documents it published with one update per batch (per distinct
    count of events), and a document that gained an event while its first ones were being
    published keeps them all pending: the next run publishes the new one, and the stream
    holds every event once."""
    settings, db, seen = watched.settings, watched.db, watched.seen
    await db.entries.insert_many([
        embed(settings.namespace, {"_id": "one"}, [touch(1)]),
        embed(settings.namespace, {"_id": "two"}, [touch(2), touch(3)]),
        embed(settings.namespace, {"_id": "late"}, [touch(4)]),
        embed(settings.namespace, {"_id": "also-one"}, [touch(5)]),
    ])  # fmt: skip
    later = touch(6)
    published: list[str] = []

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await watched.publish(event_id, subject, body)
        published.append(event_id)
        if len(published) == 4:  # "late"'s first event is out: a change appends another
            await db.entries.update_one({"_id": "late"}, push(settings.namespace, [later]))

    relay = OutboxRelay(db, publish, embedded=["entries"])
    seen.commands.clear()
    assert await relay.run_once(["entries"]) == 5
    marks = [
        body for name, body in seen.commands
        if name == "update" and "$unset" in body["updates"][0]["u"]
    ]  # fmt: skip
    assert len(marks) == 2  # the documents with one event, and the one with two
    assert sum(len(body["updates"]) for body in marks) == 2
    pending = await db.entries.find({EVENTS_SEQ: {"$gte": 0}}).to_list()
    assert [(d["_id"], len(d[EVENTS])) for d in pending] == [("late", 2)]

    assert await relay.run_once(["entries"]) == 2  # its first event again, and the new one
    assert await relay.pending_count() == 0
    in_stream = await delivered_ids(servers.nats_url, settings.namespace)
    assert sorted(in_stream) == sorted({*published, later.id})
    assert len(in_stream) == 6


async def test_documents_handed_over_are_published_without_reading_them_back(watched, servers):
    """A document inserted in this process reaches the relay with its events: under load
    nothing is read back. A change to a handed-over document nudges the relay instead, and
    then it reads the collection: every event is published once."""
    settings, db, seen = watched.settings, watched.db, watched.seen

    def reads_of_entries() -> int:
        return sum(
            1 for name, body in seen.commands if name == "find" and body["find"] == "entries"
        )

    async def all_published() -> bool:
        return await relay.pending_count() == 0

    relay = OutboxRelay(db, watched.publish, embedded=["entries"], poll_seconds=60)
    outbox = Outbox(db, settings.namespace)
    outbox.attach(relay)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(reads_of_entries)  # at start it reads what is pending
        seen.commands.clear()
        written = [embed(settings.namespace, {"_id": f"e{n}"}, [touch(n)]) for n in range(3)]
        await db.entries.insert_many(written)
        outbox.committed("entries", written)
        await eventually(all_published)
        assert reads_of_entries() == 0
        assert len(await delivered_ids(servers.nats_url, settings.namespace)) == 3

        # Handed over, and changed before the relay ran: the change's nudge makes it read.
        changed = embed(settings.namespace, {"_id": "changed"}, [touch(7)])
        await db.entries.insert_one(changed)
        await db.entries.update_one({"_id": "changed"}, push(settings.namespace, [touch(8)]))
        outbox.committed("entries", [changed])
        outbox.committed("entries")
        await eventually(all_published)
        assert reads_of_entries() >= 1
        assert len(await delivered_ids(servers.nats_url, settings.namespace)) == 5
    finally:
        await relay.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
