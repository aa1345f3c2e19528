"""Durable JetStream consumers: decode, apply once, ack; dead-letter what can never work.

Every consumer is a durable pull consumer with explicit acks. A message is
acked only after its effect committed; a transient failure is nak'ed with a
growing delay; a message that can never be processed (not JSON, schema
broken, an unreadable version) goes to `<ns>.dlq.<service>` with the reason and
is terminated, so the messages behind it keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as AckPolicyConfig
from nats.js.api import ConsumerConfig as NatsConsumerConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pymongo.errors import DuplicateKeyError

from shared import telemetry, tombstones
from shared.logging import bind_context, get_logger
from shared.messages.base import (
    DecodedEvent,
    InvalidEvent,
    UnknownEventType,
    decode,
    subject_of,
)
from shared.metrics import DEAD_LETTERED, EVENTS_CONSUMED
from shared.mongo import Database, Session, Transact
from shared.nats import (
    DLQ_CONSUMER_HEADER,
    DLQ_MSG_ID_HEADER,
    DLQ_REASON_HEADER,
    DLQ_SUBJECT_HEADER,
    MSG_ID_HEADER,
    raw_body,
)
from shared.nats_message import IncomingMessage
from shared.settings import BaseServiceSettings
from shared.subjects import (
    dead_letter_stream_name,
    dead_letter_subject,
    durable_name,
    inbox_prefix,
    owner_events,
    stream_name,
)

log = get_logger(__name__)

PROCESSED = "processed_events"
PROCESSED_RETENTION = timedelta(days=30)
# How long one fetch waits on the server for a first message. Short: a pull request left
# over on the server after a client-side timeout can hold a message until it expires.
FETCH_WAIT_SECONDS = 1.0
GATHER_SECONDS = 0.02  # how long it then waits for the rest of a batch that is not there yet

EventHandler = Callable[[DecodedEvent], Awaitable[None]]
Effect = Callable[[Session], Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler for an event that is valid but can never be applied."""


async def ensure_processed_index(db: Database) -> None:
    await db[PROCESSED].create_index(
        "at", expireAfterSeconds=int(PROCESSED_RETENTION.total_seconds())
    )


async def apply_once(
    transact: Transact,
    db: Database,
    consumer: str,
    event_id: str,
    effect: Effect,
) -> bool:
    """Run `effect` and record the event as processed in one transaction.

    Returns False (and changes nothing) when this consumer already applied the event.
    """
    key = f"{consumer}:{event_id}"

    async def work(session: Session) -> bool:
        # The unique _id is the guarantee; the lookup spares an aborted transaction.
        if await db[PROCESSED].find_one({"_id": key}, session=session) is not None:
            return False
        await db[PROCESSED].insert_one({"_id": key, "at": datetime.now(UTC)}, session=session)
        await effect(session)
        return True

    try:
        return await transact(work)
    except DuplicateKeyError:
        return False  # a concurrent delivery of the same event won the race


def redelivery_delay(delivered: int) -> float:
    """Back off 1 s, 2 s, 4 s ... up to a minute between attempts."""
    return float(min(2 ** max(delivered - 1, 0), 60))


class DeadLetters:
    """Publishes an unprocessable message, untouched, with why and where it came from."""

    def __init__(self, broker: NatsBroker, settings: BaseServiceSettings) -> None:
        self._broker = broker
        self._subject = dead_letter_subject(settings.namespace, settings.service_name)
        self._stream = dead_letter_stream_name(settings.namespace, settings.service_name)

    async def send(self, consumer: str, raw: Msg, reason: str) -> None:
        sequence = raw.metadata.sequence.stream if raw.reply else None
        headers = {
            DLQ_REASON_HEADER: reason[:1000],
            DLQ_SUBJECT_HEADER: raw.subject,
            DLQ_CONSUMER_HEADER: consumer,
        }
        original_id = (raw.headers or {}).get(MSG_ID_HEADER)
        if original_id:
            headers[DLQ_MSG_ID_HEADER] = original_id
        if sequence is not None:
            # One dead letter per original message, however often this runs.
            headers[MSG_ID_HEADER] = f"{consumer}:{sequence}"
        await self._broker.publish(
            raw.data, self._subject, headers=headers, stream=self._stream, timeout=5
        )
        DEAD_LETTERED.labels(consumer=consumer).inc()
        log.warning("dead_lettered", consumer=consumer, subject=raw.subject, reason=reason[:200])


async def narrow_consumer(js: JetStreamContext, stream: str, durable: str, subject: str) -> None:
    """Make an existing durable filter on `subject`: nats-py binds to a durable as it finds
    it, so one made before its consumer was narrowed would still deliver everything. (An
    update nats-server allows since 2.10.) A missing durable is left to be made."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return
    config = info.config
    if config.filter_subject == subject and not config.filter_subjects:
        return
    config.filter_subject, config.filter_subjects = subject, None
    await js.add_consumer(stream, config=config)
    log.info("consumer_narrowed", consumer=durable, subject=subject)


def subscribe_events(
    broker: NatsBroker,
    settings: BaseServiceSettings,
    *,
    owner: str,
    purpose: str,
    handle: EventHandler,
    dead_letters: DeadLetters,
    filter_subject: str | None = None,
) -> Any:
    """Register a durable pull consumer named `<service>-<purpose>-<owner>` on `owner`'s stream."""
    durable = durable_name(settings.service_name, purpose, owner)
    max_deliver = settings.max_deliver

    async def on_message(msg: IncomingMessage) -> None:
        raw: Msg = msg.raw_message
        delivered = raw.metadata.num_delivered or 1
        try:
            event = decode(raw.data)
            where = subject_of(settings.namespace, event.envelope)
            if raw.subject != where:
                # Defence in depth beside NATS permissions: an event is only taken from the
                # subject its own owner publishes it on.
                raise InvalidEvent(f"{event.envelope.type} events do not belong on {raw.subject}")
        except UnknownEventType as exc:
            EVENTS_CONSUMED.labels(consumer=durable, outcome="unknown_type").inc()
            log.info("event_type_skipped", consumer=durable, reason=str(exc))
            await msg.ack()
            return
        except InvalidEvent as exc:
            await dead_letters.send(durable, raw, str(exc))
            EVENTS_CONSUMED.labels(consumer=durable, outcome="dead_lettered").inc()
            await msg.reject()
            return

        envelope = event.envelope
        with bind_context(
            correlation_id=envelope.correlation_id, event_id=envelope.id, event_type=envelope.type
        ):
            try:
                await handle(event)
            except PermanentFailure as exc:
                await dead_letters.send(durable, raw, f"cannot apply: {exc}")
                EVENTS_CONSUMED.labels(consumer=durable, outcome="dead_lettered").inc()
                await msg.reject()
                return
            except Exception as exc:
                if delivered >= max_deliver:
                    reason = f"gave up after {delivered} deliveries: {type(exc).__name__}"
                    await dead_letters.send(durable, raw, reason)
                    EVENTS_CONSUMED.labels(consumer=durable, outcome="dead_lettered").inc()
                    await msg.reject()
                    return
                EVENTS_CONSUMED.labels(consumer=durable, outcome="retried").inc()
                log.warning(
                    "event_handling_failed",
                    consumer=durable,
                    error=type(exc).__name__,
                    delivered=delivered,
                )
                await msg.nack(delay=redelivery_delay(delivered))
                return
        EVENTS_CONSUMED.labels(consumer=durable, outcome="applied").inc()
        await msg.ack()

    on_message.__name__ = f"consume_{purpose}_{owner}"
    subscriber = broker.subscriber(
        filter_subject or owner_events(settings.namespace, owner),
        stream=JStream(stream_name(settings.namespace, owner), declare=False),
        durable=durable,
        config=ConsumerConfig(
            durable_name=durable,
            max_deliver=max_deliver,
            ack_wait=settings.ack_wait_seconds,
        ),
        # One message per fetch: with nats-py 2.16 an empty multi-message fetch raises
        # a TimeoutError FastStream 0.7.8 does not suppress (its supervisor then restarts
        # the loop and logs an error every second); the single-message path raises the
        # one it does suppress. The handler's transaction dominates the cost anyway.
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        # Fetched messages arrive on this service's own inbox (FastStream's default for pull
        # consumers is the shared "_INBOX.", which the bus refuses).
        inbox_prefix=f"{inbox_prefix(settings.namespace, settings.service_name)}.".encode(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=durable,
        description=f"{settings.service_name} consumes {owner} events for {purpose}",
    )
    subscriber(on_message)
    return subscriber


# -- batches ------------------------------------------------------------------------------

BatchHandler = Callable[[list[DecodedEvent]], Awaitable[None]]
BatchEffect = Callable[[Session, list[DecodedEvent]], Awaitable[None]]


async def without_buried(
    db: Database, events: list[DecodedEvent], consumer: str, session: Session | None = None
) -> list[DecodedEvent]:
    """The events not about an erased member or relationship (one read for them all; inside
    a transaction with `session`), and a log line for any left out."""
    gone = await tombstones.buried_events(db, [event.envelope for event in events], session)
    if gone:
        log.info("events_after_erasure_ignored", consumer=consumer, count=len(gone))
    return [event for event in events if event.id not in gone]


async def apply_batch_once(
    transact: Transact,
    db: Database,
    consumer: str,
    events: list[DecodedEvent],
    effect: BatchEffect,
) -> list[DecodedEvent]:
    """Run `effect` over the events this consumer has not applied yet and mark them
    processed, all in one transaction (a few writes for the whole batch). Returns the
    events that were new."""
    keys = {f"{consumer}:{event.id}": event for event in events}

    async def work(session: Session) -> list[DecodedEvent]:
        seen = (
            await db[PROCESSED]
            .find({"_id": {"$in": list(keys)}}, projection={"_id": 1}, session=session)
            .to_list()
        )
        done = {document["_id"] for document in seen}
        fresh = {key: event for key, event in keys.items() if key not in done}
        if not fresh:
            return []
        now = datetime.now(UTC)
        await db[PROCESSED].insert_many([{"_id": key, "at": now} for key in fresh], session=session)
        # An erasure may have committed since the batch was filtered: what it removed must
        # not come back (the events are marked processed all the same).
        alive = await without_buried(db, list(fresh.values()), consumer, session)
        if alive:
            await effect(session, alive)
        return alive

    return await transact(work)


def _decoded(raw: Msg, namespace: str) -> DecodedEvent:
    event = decode(raw.data)
    where = subject_of(namespace, event.envelope)
    if raw.subject != where:
        # Defence in depth beside NATS permissions: an event is only taken from the
        # subject its own owner publishes it on.
        raise InvalidEvent(f"{event.envelope.type} events do not belong on {raw.subject}")
    return replace(event, trace=telemetry.carried(raw.headers))


async def consume_batches(
    connection: Client,
    settings: BaseServiceSettings,
    *,
    owner: str,
    purpose: str,
    handle: BatchHandler,
    dead_letters: DeadLetters,
    batch_size: int,
    linger_seconds: float = 0.0,
    bound: Callable[[], None] = lambda: None,
) -> None:
    """A durable pull consumer `<service>-<purpose>-<owner>` that takes up to `batch_size`
    messages per fetch and hands them to `handle` together; acks after it returns.

    A batch that fails is applied again one event at a time, so one event that cannot
    be applied is retried with backoff or dead-lettered without holding up the others.
    Runs until cancelled; waits on the server between messages (no database reads).
    """
    durable = f"{settings.service_name}-{purpose}-{owner}"
    js = connection.jetstream()
    subscription = await js.pull_subscribe(
        owner_events(settings.namespace, owner),
        durable=durable,
        stream=stream_name(settings.namespace, owner),
        config=NatsConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicyConfig.EXPLICIT,
            max_deliver=settings.max_deliver,
            ack_wait=settings.ack_wait_seconds,
        ),
    )
    bound()
    prefetched: asyncio.Task[list[Prepared]] | None = None
    try:
        while True:
            try:
                if prefetched is not None:
                    # Taken before it is awaited: a prefetch that found nothing raises here,
                    # and awaiting that same finished task again would raise again at once,
                    # a loop that never yields (the whole service stops answering).
                    fetching, prefetched = prefetched, None
                    batch = await fetching
                else:
                    batch = await _fetch_prepared(subscription, batch_size, settings, durable,
                                                  dead_letters)  # fmt: skip
            except TimeoutError:  # nothing came (nats-py's own or a bare one: _next_batch)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away for a moment: the next fetch tries again
                log.warning("fetch_failed", consumer=durable, error=type(exc).__name__)
                await asyncio.sleep(1)
                continue
            if len(batch) == batch_size:
                # A backlog: fetch and decode the next batch while this one is written, so
                # the database is never waiting on NATS or on decoding.
                prefetched = asyncio.create_task(_fetch_prepared(
                    subscription, batch_size, settings, durable, dead_letters))  # fmt: skip
            await _apply_batch(batch, settings, durable, handle, dead_letters)
            if linger_seconds and len(batch) < batch_size:
                # Let the next batch gather: a steady trickle costs a few writes per
                # `linger_seconds`, not a few per event.
                await asyncio.sleep(linger_seconds)
    finally:
        if prefetched is not None:  # its messages are redelivered once their ack wait ends
            prefetched.cancel()
        # Without it, the connection's drain at shutdown waits its whole timeout (30 s) for
        # this subscription's undelivered fetch replies.
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def _next_batch(subscription: JetStreamContext.PullSubscription, size: int) -> list[Msg]:
    """Wait for one message, then take what else is already there, up to `size`.

    (A single multi-message fetch would wait for the whole batch or its timeout: with a
    trickle of events that is the timeout every time.)"""
    first = await subscription.fetch(1, timeout=FETCH_WAIT_SECONDS)
    if size <= 1:
        return first
    try:
        more = await subscription.fetch(size - 1, timeout=GATHER_SECONDS)
    except TimeoutError:
        # nats-py raises its own TimeoutError, or a bare one when its short deadline ran out
        # while it waited for the server's "no messages": either way nothing more is there.
        # (Were the bare one to escape, the first message, fetched but never acked, would
        # wait out its whole ack wait: 30 s.)
        more = []
    return [*first, *more]


Prepared = tuple[Msg, DecodedEvent | None]  # None: acked or dead-lettered while decoding


async def _fetch_prepared(
    subscription: JetStreamContext.PullSubscription,
    size: int,
    settings: BaseServiceSettings,
    durable: str,
    dead_letters: DeadLetters,
) -> list[Prepared]:
    """The next batch, decoded: events of unknown types are acknowledged and skipped,
    invalid ones dead-lettered; each message keeps its place so a full batch shows."""
    prepared: list[Prepared] = []
    for raw in await _next_batch(subscription, size):
        try:
            prepared.append((raw, _decoded(raw, settings.namespace)))
        except UnknownEventType as exc:
            EVENTS_CONSUMED.labels(consumer=durable, outcome="unknown_type").inc()
            log.info("event_type_skipped", consumer=durable, reason=str(exc))
            await raw.ack()
            prepared.append((raw, None))
        except InvalidEvent as exc:
            await dead_letters.send(durable, raw, str(exc))
            EVENTS_CONSUMED.labels(consumer=durable, outcome="dead_lettered").inc()
            await raw.term()
            prepared.append((raw, None))
    return prepared


async def _apply_batch(
    prepared: list[Prepared],
    settings: BaseServiceSettings,
    durable: str,
    handle: BatchHandler,
    dead_letters: DeadLetters,
) -> None:
    ready = [(raw, event) for raw, event in prepared if event is not None]
    if not ready:
        return
    try:
        await handle([event for _raw, event in ready])
    except Exception as exc:
        if len(ready) == 1:
            await _failed(ready[0][0], exc, settings, durable, dead_letters)
            return
        log.info("batch_failed_one_by_one", consumer=durable, error=type(exc).__name__)
        for raw, event in ready:
            try:
                with bind_context(event_id=event.id, event_type=event.envelope.type):
                    await handle([event])
            except Exception as one:
                await _failed(raw, one, settings, durable, dead_letters)
            else:
                EVENTS_CONSUMED.labels(consumer=durable, outcome="applied").inc()
                await raw.ack()
        return
    for raw, event in ready:
        EVENTS_CONSUMED.labels(consumer=durable, outcome="applied").inc()
        await raw.ack()
        telemetry.consumed(
            telemetry.tracer(settings.service_name), f"{event.envelope.type} process",
            dict(raw.headers or {}), **{"messaging.message.id": event.id},
        )  # fmt: skip


async def _failed(
    raw: Msg, exc: Exception, settings: BaseServiceSettings, durable: str, dead_letters: DeadLetters
) -> None:
    delivered = raw.metadata.num_delivered or 1
    if isinstance(exc, PermanentFailure) or delivered >= settings.max_deliver:
        reason = (
            f"cannot apply: {exc}"
            if isinstance(exc, PermanentFailure)
            else f"gave up after {delivered} deliveries: {type(exc).__name__}"
        )
        await dead_letters.send(durable, raw, reason)
        EVENTS_CONSUMED.labels(consumer=durable, outcome="dead_lettered").inc()
        await raw.term()
        return
    EVENTS_CONSUMED.labels(consumer=durable, outcome="retried").inc()
    log.warning("event_handling_failed", consumer=durable, error=type(exc).__name__,
                delivered=delivered)  # fmt: skip
    await raw.nak(delay=redelivery_delay(delivered))
