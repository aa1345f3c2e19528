"""Outbox relay throughput against the ceiling: bare JetStream publishes from one process.

Both runs start from the same private nats-server and SecantusDB. The ceiling
publishes N events one after another, each awaiting its PubAck (what the relay
must do to keep order). Ours writes the N events to the outbox (in
transactions, not timed) and times the relay draining them: publish plus
marking them sent. Prints events/s for each and the ratio last.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nats
from pymongo import AsyncMongoClient

from bench.report import conclude
from deploy.servers import private_servers
from shared.envelope import Envelope
from shared.messages import new_event
from shared.messages.checkin import TouchLogged
from shared.mongo import Session, in_transaction
from shared.outbox import Outbox, OutboxRelay

N = 2000
BATCH = 100


def sample(index: int) -> TouchLogged:
    return TouchLogged(
        touch_id=f"t{index}", author_id="m1", kind="hug", sexual=False,
        occurred_at="2026-11-20T18:00:00Z",
    )  # fmt: skip


async def run(nats_url: str, db_url: str) -> None:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    await js.add_stream(name="CEILING", subjects=["ceiling.>"], duplicate_window=120)
    await js.add_stream(name="OURS", subjects=["bench.checkin.evt.>"], duplicate_window=120)

    events = [new_event(sample(i), relationship_id="r1", actor_id="m1") for i in range(N)]
    started = time.perf_counter()
    for event in events:
        await js.publish("ceiling.x", event.to_json(), headers={"Nats-Msg-Id": event.id})
    ceiling = N / (time.perf_counter() - started)

    client: AsyncMongoClient[dict] = AsyncMongoClient(db_url)  # type: ignore[type-arg]
    db = client["bench_checkin"]
    outbox = Outbox(db, "bench")
    await outbox.ensure_indexes()
    fresh = [new_event(sample(i), relationship_id="r1", actor_id="m1") for i in range(N)]
    for start in range(0, N, BATCH):

        async def work(
            session: Session, chunk: list[Envelope] = fresh[start : start + BATCH]
        ) -> None:
            await outbox.add(session, *chunk)

        await in_transaction(client, work)

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await js.publish(subject, body, stream="OURS", headers={"Nats-Msg-Id": event_id})

    relay = OutboxRelay(db, publish, batch_size=BATCH)
    started = time.perf_counter()
    sent = 0
    while sent < N:
        sent += await relay.run_once()
    ours = N / (time.perf_counter() - started)
    await client.close()
    await connection.close()
    print(f"ceiling (bare JetStream publish): {ceiling:,.0f} events/s")
    print(f"ours (outbox relay, publish + mark sent): {ours:,.0f} events/s")
    conclude(
        f"{ours:,.0f} events/s relayed from the outbox",
        f"{ceiling:,.0f} events/s bare JetStream publish",
        "ours/ceiling",
        ours / ceiling,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, private_servers(Path(tmp)) as (nats_url, db_url):
        asyncio.run(run(nats_url, db_url))


if __name__ == "__main__":
    main()
