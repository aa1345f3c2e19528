"""Background sampling of what a scrape cannot ask for itself: consumer lag, outbox depth,
readiness. Prometheus collectors run synchronously, JetStream and MongoDB answer
asynchronously, so a task refreshes the gauges every few seconds instead."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared.logging import failure, get_logger
from shared.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    OUTBOX_OLDEST_PENDING,
    OUTBOX_PENDING,
    READY,
)
from shared.outbox import OutboxRelay

log = get_logger(__name__)


@dataclass(frozen=True)
class Durable:
    stream: str
    name: str


async def sample_once(
    connection: Client,
    durables: Sequence[Durable],
    relay: OutboxRelay | None,
    ready: Callable[[], Awaitable[bool]],
) -> None:
    READY.set(1 if await ready() else 0)
    js = connection.jetstream()
    for durable in durables:
        try:
            info = await js.consumer_info(durable.stream, durable.name)
        except NotFoundError:  # not bound yet
            continue
        CONSUMER_PENDING.labels(consumer=durable.name).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(consumer=durable.name).set(info.num_ack_pending or 0)
    if relay is not None:
        OUTBOX_PENDING.set(await relay.pending_count())
        OUTBOX_OLDEST_PENDING.set(await relay.oldest_pending_age(datetime.now(UTC)))


async def sample_forever(
    connection: Client,
    durables: Sequence[Durable],
    relay: OutboxRelay | None,
    ready: Callable[[], Awaitable[bool]],
    every_seconds: float,
) -> None:
    while True:
        try:
            await sample_once(connection, durables, relay, ready)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # MongoDB away for a moment: readiness says so already
            READY.set(0)
            log.warning("gauges_not_sampled", **failure(exc))
        await asyncio.sleep(every_seconds)
