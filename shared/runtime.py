"""What every service does around its handlers: connect, declare, consume, relay, stop.

A service is its handlers plus this runtime. Resources are created in the
lifespan (never at import time, as PyMongo's async client is bound to its loop),
and the health endpoints report what the service can reach.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from starlette.applications import Starlette

from shared import telemetry, tombstones
from shared.consumer import (
    BatchEffect,
    BatchHandler,
    DeadLetters,
    Effect,
    EventHandler,
    apply_batch_once,
    apply_once,
    consume_batches,
    ensure_processed_index,
    narrow_consumer,
    subscribe_events,
    without_buried,
)
from shared.contract import operation_for
from shared.gauges import Durable, sample_forever
from shared.health import http_face, pong
from shared.logging import get_logger
from shared.membership import (
    MEMBERSHIP_EVENTS,
    SeenMemberships,
    ensure_membership_indexes,
    project_membership,
)
from shared.messages.base import DecodedEvent
from shared.mongo import Database, Document, Session, create_client, in_transaction, ping
from shared.nats import (
    create_broker,
    dead_letter_stream_config,
    declare_stream,
    event_stream_config,
    publish_raw,
    wait_for_stream,
)
from shared.outbox import Outbox, OutboxRelay, ensure_embedded_index, noting_additions
from shared.redrive import RedriveDeadLetter, Redriven, redrive
from shared.rpc import Handler, Kind, Ping, Pong, Request, register_responder
from shared.settings import BaseServiceSettings
from shared.subjects import (
    CONSUMERS,
    durable_name,
    events_of_type,
    relay_wake_subject,
    stream_name,
)
from shared.tasks import cancel_until_done

log = get_logger(__name__)

StartupHook = Callable[["ServiceRuntime"], Awaitable[None]]

T = TypeVar("T")

# Each of readiness's pings (NATS, MongoDB) answers within this, so a service's answer to
# the gateway's Ping comes back inside the gateway's readiness timeout (1 s by default).
PING_SECONDS = 0.5


class ServiceRuntime:
    def __init__(
        self,
        settings: BaseServiceSettings,
        *,
        owns_events: bool = True,
        broker: NatsBroker | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.broker = broker or create_broker(settings)
        self.owns_events = owns_events
        self.dead_letters = DeadLetters(self.broker, settings)
        self._consumed_owners: set[str] = set()
        self._pending_consumers: list[tuple[str, str, EventHandler, str | None]] = []
        self._batch_consumers: list[tuple[str, str, BatchHandler, float]] = []
        self._unbound_consumers = 0
        self._startup_hooks: list[StartupHook] = []
        self._background: list[asyncio.Task[None]] = []
        self._mongo: AsyncMongoClient[Document] | None = None
        self._db: Database | None = None
        self._outbox: Outbox | None = None
        self._embedded_events: list[str] = []
        self.relay: OutboxRelay | None = None
        self.started = False
        self.started_at = time.monotonic()
        # What this service answers, so a test can hold it against the published contract.
        self.responders: list[tuple[Kind, str, type[Any]]] = []
        self.handle({Ping: self._pong})
        if owns_events:
            self.handle({RedriveDeadLetter: self._redrive})

    # -- resources, available once started ------------------------------------------------
    @property
    def mongo(self) -> AsyncMongoClient[Document]:
        if self._mongo is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._mongo

    @property
    def db(self) -> Database:
        # One handle, made at start: building it anew on every use was 1 % of the gateway's
        # CPU under load.
        if self._db is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._db

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise RuntimeError(f"{self.name} has no outbox (not started, or owns no events)")
        return self._outbox

    # -- wiring, before start --------------------------------------------------------------
    def consume(
        self,
        owner: str,
        purpose: str,
        handle: EventHandler,
        *,
        only_type: str | None = None,
    ) -> None:
        """A durable consumer of `owner`'s events, bound once that service's stream exists.
        `only_type`: the one event type it acts on, filtered by the server, so the others
        never reach this service (each would cost a fetch, a decode and an ack)."""
        self._declared(owner, purpose)
        self._consumed_owners.add(owner)
        self._pending_consumers.append((owner, purpose, handle, only_type))

    def _declared(self, owner: str, purpose: str) -> None:
        if (owner, purpose) not in CONSUMERS.get(self.name, ()):
            problem = (
                f"{self.name} consumer {purpose!r} of {owner} is not declared in "
                "shared/subjects.CONSUMERS, so the bus would refuse it"
            )
            if self.settings.nats_user is not None:  # permissions apply: fail at once
                raise ValueError(problem)
            log.warning("consumer_not_declared", detail=problem)

    def consume_batches(
        self,
        owner: str,
        purpose: str,
        handle: BatchHandler,
        *,
        linger_seconds: float | None = None,
        leaves_out_erased: bool = False,
    ) -> None:
        """Like `consume`, but `handle` gets up to `consumer_batch_size` events at once and
        must apply them idempotently per event id (see shared.consumer.apply_batch_once).

        A consumer that took less than a full batch waits `linger_seconds` before the next
        (by default `consumer_linger_seconds`, for aggregates; shorter for what a member
        waits on), so a steady stream costs a few writes per linger, not per event.

        Events about an erased member or relationship are left out before `handle` sees
        them, unless it `leaves_out_erased` itself: `apply_batch_once` does, inside its
        transaction, and a handler that writes for only some events can read the
        tombstones for those alone."""
        self._declared(owner, purpose)
        self._consumed_owners.add(owner)
        durable = f"{self.name}-{purpose}-{owner}"  # as consume_batches names it, for the log
        guarded = handle if leaves_out_erased else self._batch_unless_buried(handle, durable)
        linger = self.settings.consumer_linger_seconds if linger_seconds is None else linger_seconds
        self._batch_consumers.append((owner, purpose, guarded, linger))

    def handle(self, handlers: Mapping[type[BaseModel], Handler[Any]]) -> None:
        """Answer each request type with its function, `{LogCheckin: log_checkin, ...}`:
        the catalog (shared/contract.py) says whether it is a command or a query and on
        which subject it arrives."""
        for request_type, handler in handlers.items():
            op = operation_for(request_type, self.name)
            self.respond(op.kind, op.name, request_type, handler)

    def respond(
        self, kind: Kind, name: str, payload_type: type[Any], handler: Handler[Any]
    ) -> None:
        """Answer a subject by name (tests of the transport; services use `handle`)."""
        self.responders.append((kind, name, payload_type))
        register_responder(
            self.broker, self.settings.namespace, self.name, kind, name, payload_type, handler
        )

    def keep_membership(self, seen: SeenMemberships | None = None) -> None:
        """Keep the relationship-membership read model from the gateway's events (and tell
        `seen` each version once it is projected)."""

        async def on_membership(event: DecodedEvent) -> None:
            if not isinstance(event.data, MEMBERSHIP_EVENTS):
                return
            db = self.db

            async def effect(session: Session) -> None:
                await project_membership(db, event, session)

            await self.apply_once("membership", event.id, effect)
            if seen is not None:
                seen.saw_event(event)

        async def indexes(runtime: ServiceRuntime) -> None:
            await ensure_membership_indexes(runtime.db)

        self.consume("gateway", "membership", on_membership)
        self.on_startup(indexes)

    def publish_from(self, collection: str) -> None:
        """The relay also publishes the events embedded in `collection`'s documents."""
        self._embedded_events.append(collection)

    def on_startup(self, hook: StartupHook) -> None:
        self._startup_hooks.append(hook)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background until the service stops (then it is cancelled)."""
        self._watch(asyncio.create_task(work))

    def _watch(self, task: asyncio.Task[None]) -> None:
        """Keep a background task and make its crash loud instead of silent."""

        def report(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("background_task_crashed", error=repr(done.exception()))

        task.add_done_callback(report)
        self._background.append(task)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        self._mongo = create_client(
            settings.mongo_url, f"attune-{self.name}", settings.mongo_timeout_seconds
        )
        self._db = self._mongo[settings.database_name]
        await ensure_processed_index(self.db)
        connection = await self.broker.connect()
        await declare_stream(connection, dead_letter_stream_config(settings, self.name))
        if self.owns_events:
            await declare_stream(connection, event_stream_config(settings, self.name))
            self._outbox = Outbox(self.db, settings.namespace)
            await self._outbox.ensure_indexes()
            for collection in self._embedded_events:
                await ensure_embedded_index(self.db[collection])
            wake_subject = relay_wake_subject(settings.namespace, self.name)

            async def ask_the_holder() -> None:
                await connection.publish(wake_subject, b"")

            self.relay = OutboxRelay(
                self.db,
                self._publish_raw,
                embedded=self._embedded_events,
                poll_seconds=settings.outbox_poll_seconds,
                lease_seconds=settings.outbox_lease_seconds,
                tracer=telemetry.tracer(self.name),
                on_lease_held_elsewhere=ask_the_holder,
            )
            self._outbox.attach(self.relay)
            relay = self.relay

            async def woken(_msg: Msg) -> None:
                for source in relay.sources:
                    relay.nudge(source, from_peer=True)

            await connection.subscribe(wake_subject, cb=woken)
        # Indexes (and the collections under them) before any consumer or responder runs:
        # SecantusDB can deadlock creating a collection while transactions write to it.
        for hook in self._startup_hooks:
            await hook(self)
        await self.broker.start()
        # A round trip: the server has every responder's subscription before this service
        # says it has started (a request sent a moment later from another connection would
        # otherwise find no responders).
        await connection.flush()
        # Another service's stream may not exist yet (it declares its own): bind those
        # consumers when it appears instead of refusing to start; readiness says so.
        self._unbound_consumers = len(self._pending_consumers) + len(self._batch_consumers)
        for owner, purpose, handle, only in self._pending_consumers:
            self._watch(asyncio.create_task(self._bind(owner, purpose, handle, only)))
        for owner, purpose, batch_handle, linger in self._batch_consumers:
            self._watch(
                asyncio.create_task(self._run_batches(owner, purpose, batch_handle, linger))
            )
        if self.relay is not None:
            self._watch(asyncio.create_task(self.relay.run()))
        durables = [
            Durable(stream_name(settings.namespace, owner), f"{self.name}-{purpose}-{owner}")
            for owner, purpose in [(o, p) for o, p, _, _ in self._pending_consumers]
            + [(o, p) for o, p, _, _ in self._batch_consumers]
        ]
        self.spawn(
            sample_forever(
                connection, durables, self.relay, self.ready, settings.gauge_sample_seconds
            )
        )
        self.started = True
        log.info("service_started", consumers=sorted(self._consumed_owners))

    async def _wait_for_stream(self, owner: str) -> None:
        while True:
            try:
                await wait_for_stream(
                    self.broker.connection, stream_name(self.settings.namespace, owner)
                )
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away for a moment: try again
                log.warning("stream_lookup_failed", owner=owner, error=type(exc).__name__)
                await asyncio.sleep(1)

    async def _run_batches(
        self, owner: str, purpose: str, handle: BatchHandler, linger: float
    ) -> None:
        await self._wait_for_stream(owner)

        def bound() -> None:
            self._unbound_consumers -= 1
            log.info("consumer_bound", owner=owner, purpose=purpose, batch=True)

        while True:
            try:
                await consume_batches(
                    self.broker.connection, self.settings, owner=owner, purpose=purpose,
                    handle=handle, dead_letters=self.dead_letters,
                    batch_size=self.settings.consumer_batch_size, bound=bound,
                    linger_seconds=linger,
                )  # fmt: skip
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # binding failed (NATS away): try again
                log.warning("consumer_bind_failed", owner=owner, error=type(exc).__name__)
                await asyncio.sleep(1)
            bound = lambda: None  # noqa: E731 - counted once

    async def _bind(
        self, owner: str, purpose: str, handle: EventHandler, only_type: str | None
    ) -> None:
        await self._wait_for_stream(owner)
        narrowed = None
        if only_type is not None:
            narrowed = events_of_type(self.settings.namespace, owner, only_type)
            await narrow_consumer(
                self.broker.connection.jetstream(),
                stream_name(self.settings.namespace, owner),
                durable_name(self.name, purpose, owner),
                narrowed,
            )
        subscriber = subscribe_events(
            self.broker,
            self.settings,
            owner=owner,
            purpose=purpose,
            handle=self._unless_buried(handle),
            dead_letters=self.dead_letters,
            filter_subject=narrowed,
        )
        await subscriber.start()
        self._unbound_consumers -= 1
        log.info("consumer_bound", owner=owner, purpose=purpose)

    def _unless_buried(self, handle: EventHandler) -> EventHandler:
        """Every consumer ignores events about an erased member or relationship."""

        async def guarded(event: DecodedEvent) -> None:
            if await tombstones.is_buried(self.db, event.envelope):
                log.info("event_after_erasure_ignored", event_type=event.envelope.type)
                return
            await handle(event)

        return guarded

    def _batch_unless_buried(self, handle: BatchHandler, consumer: str) -> BatchHandler:
        """Batches too: events about an erased member or relationship are left out."""

        async def guarded(events: list[DecodedEvent]) -> None:
            alive = await without_buried(self.db, events, consumer)
            if alive:
                await handle(alive)

        return guarded

    async def stop(self) -> None:
        self.started = False
        if self.relay is not None:
            await self.relay.stop()
        await cancel_until_done(self._background)
        self._background.clear()
        await self.broker.stop()
        if self._mongo is not None:
            await self._mongo.close()
            self._mongo = None
            self._db = None
        telemetry.flush(self.name)
        log.info("service_stopped")

    async def _publish_raw(self, event_id: str, subject: str, body: bytes) -> None:
        await publish_raw(self.broker, self.settings.namespace, self.name, event_id, subject, body)

    async def apply_once(self, purpose: str, event_id: str, effect: Effect) -> bool:
        """Apply an event's effect once for this consumer purpose (shared.consumer)."""
        return await apply_once(self.transact, self.db, purpose, event_id, effect)

    async def apply_batch_once(
        self, purpose: str, events: list[DecodedEvent], effect: BatchEffect
    ) -> list[DecodedEvent]:
        """Apply a batch's effect once per event for this purpose; the events that were new."""
        return await apply_batch_once(self.transact, self.db, purpose, events, effect)

    async def transact(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """The service's one door to a transaction: run `work` (state plus outbox events),
        retried as MongoDB advises, then wake the relay if it added events."""
        tracer = telemetry.tracer(self.name)
        with noting_additions() as added, tracer.start_as_current_span(f"{self.name} write"):
            result = await in_transaction(self.mongo, work)
        if self._outbox is not None and added:
            self._outbox.committed()
        return result

    # -- health -----------------------------------------------------------------------------
    async def checks(self) -> dict[str, bool]:
        nats_ok = self.started and await self.broker.ping(timeout=PING_SECONDS)
        mongo_ok = self._mongo is not None and await ping(self._mongo, timeout=PING_SECONDS)
        return {
            "started": self.started,
            "consumers": self.started and self._unbound_consumers == 0,
            "nats": bool(nats_ok),
            "mongodb": bool(mongo_ok),
        }

    async def ready(self) -> bool:
        return all((await self.checks()).values())

    async def _pong(self, _payload: Ping, _request: Request) -> Pong:
        return await pong(self)

    async def _redrive(self, payload: RedriveDeadLetter, _request: Request) -> Redriven:
        return await redrive(
            self.broker.connection, self.settings.namespace, self.name,
            payload.service, payload.sequence,
        )  # fmt: skip

    def asgi(self) -> Starlette:
        """A small HTTP face: liveness, readiness and Prometheus metrics (shared/health.py)."""
        return http_face(self)
