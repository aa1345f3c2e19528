"""An outbox relay in its own process, slowed down so a test can SIGKILL it mid-batch.

python -m tests.support.relay_process MONGO_URL DATABASE NATS_URL STREAM
"""

from __future__ import annotations

import asyncio
import sys

import nats
from pymongo import AsyncMongoClient

from shared.outbox import OutboxRelay


async def main(mongo_url: str, database: str, nats_url: str, stream: str) -> None:
    client: AsyncMongoClient[dict] = AsyncMongoClient(mongo_url)
    connection = await nats.connect(nats_url)
    js = connection.jetstream()

    async def publish(event_id: str, subject: str, body: bytes) -> None:
        await js.publish(subject, body, stream=stream, headers={"Nats-Msg-Id": event_id})
        print(f"published {event_id}", flush=True)
        await asyncio.sleep(0.05)

    relay = OutboxRelay(client[database], publish, batch_size=1000, lease_seconds=1)
    await relay.run_once()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
