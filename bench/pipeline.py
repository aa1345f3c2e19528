"""Pipeline: events per second from JetStream through insights to updated state.

The insights service runs as its own process with its default settings (so its evaluation
tick runs alongside, as it would). Once it is ready, its durable consumer
`insights-aggregates-checkin` is paused (JetStream consumer pause), and N valid
`checkin.logged` events (shared, spread over relationships and days) are published onto
the real checkin stream. Then, on the same stream:

- baseline: a raw nats-py durable pull consumer fetching batches and acking every message,
  timed until the server shows them all acknowledged - the ceiling of consuming them here
  (also shown, for context: the same fetching one message per pull);
- ours: insights' consumer is resumed and timed from its first acknowledgement until it has
  acknowledged everything (insights takes up to `consumer_batch_size` events per fetch and
  acknowledges them once their batch is committed: contributions merged per batch, plus
  processed markers); then the relationships' days (kept by the month) must count exactly N.

Insights is started before the events exist, not onto a backlog, because SecantusDB
0.7.0b3 was seen to hang when insights' start-up index creation met its first transactions.

Prints events/s for both and `ratio insights/raw` last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from pymongo import AsyncMongoClient

from bench.report import conclude, goal
from deploy.embedded import start_service, wait_ready
from deploy.processes import ManagedProcess, free_port
from deploy.servers import private_servers
from services.checkin.settings import CheckinSettings
from services.insights import store
from shared.envelope import Envelope, Visibility
from shared.logging import configure_logging
from shared.messages import new_event
from shared.messages.checkin import CheckinLogged
from shared.nats import create_broker, declare_stream, event_stream_config, publish_event
from shared.settings import BaseServiceSettings
from shared.subjects import owner_events, stream_name

NAMESPACE = "bench"
STREAM = stream_name(NAMESPACE, "checkin")
EVENTS = 1000
RELATIONSHIPS = 20
RAW_BATCH = 100
INSIGHTS_CONSUMER = "insights-aggregates-checkin"
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 180.0


def checkins(count: int) -> list[Envelope]:
    now = datetime.now(UTC)
    found = []
    for i in range(count):
        rid, author = f"rel-{i % RELATIONSHIPS}", f"m{i % RELATIONSHIPS}-{i % 2}"
        data = CheckinLogged(
            checkin_id=f"c{i}", author_id=author, occurred_at=now - timedelta(hours=i % 600),
            mood=1 + i % 5, connection=1 + i % 10, pillars={"emotional": 1 + i % 5},
        )  # fmt: skip
        found.append(new_event(data, relationship_id=rid, actor_id=author,
                               visibility=Visibility.SHARED, subject=f"c{i}"))  # fmt: skip
    return found


async def declare_streams(settings: BaseServiceSettings) -> None:
    """The streams insights binds to (their owners are not running here)."""
    broker = create_broker(settings, "bench-declarer")
    connection = await broker.connect()
    try:
        for owner in ("checkin", "gateway", "scheduler"):
            await declare_stream(connection, event_stream_config(settings, owner))
    finally:
        await broker.stop()


async def publish(settings: BaseServiceSettings, events: list[Envelope]) -> int:
    """Publish `events` as the checkin service would; the stream's last sequence."""
    broker = create_broker(settings, "bench-publisher")
    connection = await broker.connect()
    try:
        for start in range(0, len(events), 100):  # publishing is not what is timed
            chunk = events[start : start + 100]
            await asyncio.gather(*(publish_event(broker, NAMESPACE, e) for e in chunk))
        info = await connection.jetstream().stream_info(STREAM)
        assert info.state.messages == len(events), info.state
        return int(info.state.last_seq)
    finally:
        await broker.stop()


async def pause(connection: Client, durable: str, until: datetime | None) -> None:
    """Pause a consumer until `until`, or resume it (None). nats-py has no call for this."""
    body = {"pause_until": until.strftime("%Y-%m-%dT%H:%M:%SZ")} if until else {}
    reply = await connection.request(
        f"$JS.API.CONSUMER.PAUSE.{STREAM}.{durable}", json.dumps(body).encode(), timeout=5
    )
    answer = json.loads(reply.data)
    if "error" in answer or answer.get("paused") is not (until is not None):
        raise RuntimeError(f"could not pause/resume {durable}: {answer}")


async def all_acked(js: JetStreamContext, durable: str, last_seq: int) -> bool:
    info = await js.consumer_info(STREAM, durable)
    return bool(info.ack_floor.stream_seq >= last_seq and info.num_ack_pending == 0)


async def raw_rate(js: JetStreamContext, count: int, last_seq: int, batch: int) -> float:
    durable = f"bench-raw-{batch}"
    subscription = await js.pull_subscribe(owner_events(NAMESPACE, "checkin"), durable, STREAM)
    started = time.perf_counter()
    got = 0
    while got < count:
        for msg in await subscription.fetch(min(batch, count - got), timeout=10):
            await msg.ack()
            got += 1
    while True:  # acks are fire and forget: done when the server has them all
        if await all_acked(js, durable, last_seq):
            break
        await asyncio.sleep(POLL_SECONDS)
    elapsed = time.perf_counter() - started
    await subscription.unsubscribe()
    return count / elapsed


async def insights_rate(
    connection: Client, process: ManagedProcess, count: int, last_seq: int
) -> float:
    """Resume insights' consumer; events/s from its first ack after resuming to its last.

    The clock starts at that first ack because a resumed consumer is served only at the
    client's next pull (FastStream pulls with a 1 s expiry): waiting for it is the
    benchmark's pause, not insights' work.
    """
    js = connection.jetstream()
    await pause(connection, INSIGHTS_CONSUMER, None)
    first: tuple[float, int] | None = None  # when, and how many were acked by then
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"insights exited:\n{log_tail(process)}")
        info = await js.consumer_info(STREAM, INSIGHTS_CONSUMER)
        now, floor = time.perf_counter(), int(info.ack_floor.stream_seq)
        if first is None:
            if floor >= last_seq:
                raise RuntimeError(f"{count} events went by too fast to time: use more")
            if floor > 0:
                first = (now, floor)
        elif floor >= last_seq and info.num_ack_pending == 0:
            return (count - first[1]) / (now - first[0])
        await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(
        f"insights did not acknowledge {count} events in {TIMEOUT_SECONDS:.0f} s:\n"
        f"{log_tail(process)}"
    )


def log_tail(process: ManagedProcess, lines: int = 20) -> str:
    """The end of the service's log, shown now: it lives in a directory about to go."""
    if process.log_path is None or not process.log_path.exists():
        return "(no log)"
    return "\n".join(process.log_path.read_text(errors="replace").splitlines()[-lines:])


async def aggregated_checkins(db_url: str) -> int:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(db_url)
    try:
        days = await store.load_days(client[f"{NAMESPACE}_insights"])
        return int(sum(day.get("checkins", 0) for day in days))
    finally:
        await client.close()


def publisher_settings(nats_url: str) -> BaseServiceSettings:
    """Publishing as the checkin service would."""
    return CheckinSettings.model_validate(
        {"nats_url": nats_url, "namespace": NAMESPACE, "environment": "test"}
    )


async def measure(nats_url: str, process: ManagedProcess, count: int) -> tuple[float, float, float]:
    """With insights running: pause it, publish, time the raw consumers, resume and time it."""
    connection = await nats.connect(nats_url)
    try:
        await pause(connection, INSIGHTS_CONSUMER, datetime.now(UTC) + timedelta(hours=1))
        last_seq = await publish(publisher_settings(nats_url), checkins(count))
        js = connection.jetstream()
        raw = await raw_rate(js, count, last_seq, RAW_BATCH)
        single = await raw_rate(js, count, last_seq, 1)
        ours = await insights_rate(connection, process, count, last_seq)
    finally:
        await connection.close()
    return raw, single, ours


def main() -> None:
    configure_logging("bench", "WARNING", json=False)  # the services' progress is not output
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        env = {"ATTUNE_NATS_URL": nats_url, "ATTUNE_MONGO_URL": db_url,
               "ATTUNE_NAMESPACE": NAMESPACE, "ATTUNE_ENVIRONMENT": "test",
               "ATTUNE_LOG_LEVEL": "WARNING"}  # fmt: skip
        asyncio.run(declare_streams(publisher_settings(nats_url)))
        port = free_port()
        process = start_service("insights", env, port, Path(tmp) / "insights.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", [process])
            raw, single, ours = asyncio.run(measure(nats_url, process, args.events))
        finally:
            process.stop()
        aggregated = asyncio.run(aggregated_checkins(db_url))
    assert aggregated == args.events, f"insights aggregated {aggregated} of {args.events}"
    print(f"{args.events} checkin.logged events over {RELATIONSHIPS} relationships")
    print(f"raw nats-py pull consumer (batches of {RAW_BATCH}, ack each): {raw:,.0f} events/s")
    print(f"raw nats-py pull consumer (one per fetch, ack each): {single:,.0f} events/s")
    print(f"insights (decode, aggregate in a transaction, ack): {ours:,.0f} events/s")
    goal("pipeline_events_per_second", ours)
    conclude(
        f"{ours:,.0f} events/s through insights to its aggregates",
        f"{raw:,.0f} events/s raw nats-py pull + ack",
        "insights/raw",
        ours / raw,
    )


if __name__ == "__main__":
    main()
