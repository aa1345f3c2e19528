"""Outbox: a fact and its events are written together; a relay publishes them.

Two ways to write them. A command that writes one document embeds its events in it
(`embed` / `push`: an `outbox` array and an indexed `outbox_seq`), so the fact and its
events are one single-document write and need no transaction. Writers that change
several documents in a transaction add rows to the `outbox` collection instead.

One relay per service holds a lease (so replicas never publish out of order side by
side), publishes pending events in write order with their id as `Nats-Msg-Id`, and marks
them sent with one write per batch. A document inserted in this process is handed to the
relay with its events (`Outbox.committed(source, documents)`), so under load the relay
publishes without reading anything back; it reads a source at start, after a failure or
a nudge without documents (a change, a peer's write) and when the safety timer runs out.
A relay that dies after publishing but before marking re-sends on the next run; JetStream
drops the repeat inside its de-duplication window.
The relay sleeps until a write in this process wakes it (or a long safety timer runs out,
which also covers writes made by other replicas while this one held the lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from opentelemetry.trace import NoOpTracer, Tracer
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared import telemetry
from shared.envelope import Envelope, new_id
from shared.logging import get_logger
from shared.messages.base import subject_of
from shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from shared.mongo import Database, Document, Session
from shared.tombstones import members_named

log = get_logger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_lease"
SENT_RETENTION = timedelta(days=7)
# Embedded events: the pending events of a document, in order, and the sequence number of
# its first one (indexed; absent once all are published).
EVENTS = "outbox"
EVENTS_SEQ = "outbox_seq"

# Publishes one event: (event id, subject, body). Raises when NATS did not confirm.
Publish = Callable[[str, str, bytes], Awaitable[None]]


# Set by `noting_additions` around a transaction: whether it added outbox rows, so only a
# commit that wrote events wakes the relay (consumers' transactions mostly write none).
_added: ContextVar[list[int] | None] = ContextVar("attune_outbox_added", default=None)


@contextlib.contextmanager
def noting_additions() -> Iterator[list[int]]:
    noted: list[int] = []
    token = _added.set(noted)
    try:
        yield noted
    finally:
        _added.reset(token)


def _rows(namespace: str, envelopes: Sequence[Envelope]) -> list[Document]:
    base = time.time_ns()
    trace_context = telemetry.carrier()  # the request's trace continues at publish time
    return [
        {
            "id": envelope.id,
            "subject": subject_of(namespace, envelope),
            "body": envelope.to_json(),
            "type": envelope.type,
            "seq": base + index,
            "trace": trace_context,
        }
        for index, envelope in enumerate(envelopes)
    ]


def embed(namespace: str, document: Document, envelopes: Sequence[Envelope]) -> Document:
    """`document` with `envelopes` embedded as its pending events (for an insert)."""
    if not envelopes:
        return document
    rows = _rows(namespace, envelopes)
    return {**document, EVENTS: rows, EVENTS_SEQ: rows[0]["seq"]}


def push(namespace: str, envelopes: Sequence[Envelope]) -> Document:
    """The update operators that append `envelopes` to a document's pending events."""
    if not envelopes:
        return {}
    rows = _rows(namespace, envelopes)
    return {"$push": {EVENTS: {"$each": rows}}, "$min": {EVENTS_SEQ: rows[0]["seq"]}}


async def ensure_embedded_index(collection: AsyncCollection[Document]) -> None:
    await collection.create_index(EVENTS_SEQ, sparse=True)


class Outbox:
    """The writing side, used inside a service's transactions."""

    def __init__(self, db: Database, namespace: str) -> None:
        self._collection = db[OUTBOX]
        self._namespace = namespace
        self._relay: OutboxRelay | None = None

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("status", ASCENDING), ("seq", ASCENDING)])
        await self._collection.create_index(
            "sent_at", expireAfterSeconds=int(SENT_RETENTION.total_seconds())
        )
        await self._collection.create_index("about")

    async def add(self, session: Session, *envelopes: Envelope) -> None:
        if (noted := _added.get()) is not None:
            noted.append(len(envelopes))  # the transaction wakes the relay once it commits
        now = datetime.now(UTC)
        base = time.time_ns()
        trace_context = telemetry.carrier()
        documents = [
            {
                "_id": envelope.id,
                "subject": subject_of(self._namespace, envelope),
                "body": envelope.to_json(),
                "type": envelope.type,
                # Whom and which relationship it is about: what an erasure looks rows up by.
                "about": sorted(members_named(envelope)),
                "relationship_id": envelope.relationship_id,
                "status": "pending",
                "seq": base + index,
                "created_at": now,
                # The request's trace continues when the relay publishes it (shared/telemetry).
                "trace": trace_context,
            }
            for index, envelope in enumerate(envelopes)
        ]
        if documents:
            await self._collection.insert_many(documents, session=session, ordered=True)

    async def forget(
        self,
        session: Session,
        *,
        member_id: str | None = None,
        relationship_id: str | None = None,
    ) -> None:
        """Erasure: every row about the member or the relationship goes, sent or not."""
        if member_id is not None:
            await self._collection.delete_many({"about": member_id}, session=session)
            # Rows written before rows said whom they are about.
            async for row in self._collection.find({"about": {"$exists": False}},
                                                   session=session):  # fmt: skip
                envelope = Envelope.model_validate_json(row["body"])
                if member_id in members_named(envelope):
                    await self._collection.delete_one({"_id": row["_id"]}, session=session)
        if relationship_id is not None:
            await self._collection.delete_many(
                {"relationship_id": relationship_id}, session=session
            )

    def attach(self, relay: OutboxRelay) -> None:
        """Let committed writes nudge the relay in this process instead of waiting a poll."""
        self._relay = relay

    def committed(self, source: str = OUTBOX, documents: Sequence[Document] = ()) -> None:
        """Events were written to `source` (the outbox rows, or a collection embedding them).
        `documents`: what was inserted, with its embedded events (`embed`), for the relay to
        publish as they are, without reading them back."""
        if self._relay is None:
            return
        if documents:
            self._relay.hand_over(source, documents)
        else:
            self._relay.nudge(source)


class OutboxRelay:
    """Publishes pending events; safe to run in every replica (one holds the lease).

    It reads the `outbox` rows and the embedded events of each collection named in
    `embedded`. A wake names what was written (`nudge`), so a burst of check-ins costs
    one read and one write per batch, not a scan of every source.
    """

    def __init__(
        self,
        db: Database,
        publish: Publish,
        *,
        embedded: Sequence[str] = (),
        batch_size: int = 100,
        poll_seconds: float = 30.0,
        lease_seconds: float = 10.0,
        relay_id: str | None = None,
        tracer: Tracer | None = None,
        on_lease_held_elsewhere: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self._outbox = db[OUTBOX]
        self._leases = db[LEASES]
        self._publish = publish
        self._embedded = tuple(embedded)
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._held_until = 0.0  # monotonic time until which the lease needs no renewal
        self._held_elsewhere = on_lease_held_elsewhere
        self.relay_id = relay_id or new_id()
        self._tracer = tracer or NoOpTracer()
        self.wake = asyncio.Event()
        self._dirty: set[str] = {OUTBOX, *self._embedded}
        # Documents inserted in this process, handed over with their events (`hand_over`).
        self._handed: dict[str, list[Document]] = {}
        self._written_here = False
        self._retry_in = 0.0  # when sources are still due: how soon to look again
        self._stopping = asyncio.Event()

    @property
    def sources(self) -> tuple[str, ...]:
        return (OUTBOX, *self._embedded)

    def nudge(self, source: str = OUTBOX, *, from_peer: bool = False) -> None:
        """Something was written to `source`: publish it now rather than at the safety timer.
        A nudge from a peer (another replica that could not take the lease) never makes this
        relay ask others in turn, so replicas without the lease do not wake each other."""
        self._dirty.add(source)
        if not from_peer:
            self._written_here = True
        self.wake.set()

    def hand_over(self, source: str, documents: Sequence[Document]) -> None:
        """Documents this process has just inserted into `source`, with their embedded
        events: published as they are, without reading them back. Reading is the fallback:
        a source is read whenever it is due (at start, on a nudge without documents, after
        a failure, a full batch or the safety timer), and then its handed documents are
        among what the read finds."""
        self._handed.setdefault(source, []).extend(
            {"_id": document["_id"], EVENTS: document[EVENTS]} for document in documents
        )
        self._written_here = True
        self.wake.set()

    async def acquire_lease(self) -> bool:
        now = datetime.now(UTC)
        try:
            held = await self._leases.find_one_and_update(
                {"_id": "relay", "$or": [{"until": {"$lt": now}}, {"owner": self.relay_id}]},
                {"$set": {"owner": self.relay_id, "until": now + self._lease}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # another relay holds a live lease
        return held is not None and held.get("owner") == self.relay_id

    async def _hold_lease(self) -> bool:
        """The lease, renewed only once half of it has passed (not on every batch)."""
        if time.monotonic() < self._held_until:
            return True
        started = time.monotonic()
        if await self.acquire_lease():
            self._held_until = started + self._lease.total_seconds() / 2
            return True
        self._held_until = 0.0
        return False

    async def release_lease(self) -> None:
        self._held_until = 0.0
        await self._leases.delete_one({"_id": "relay", "owner": self.relay_id})

    async def run_once(
        self,
        sources: Sequence[str] | None = None,
        *,
        ask_holder: bool = True,
        handed: dict[str, list[Document]] | None = None,
    ) -> int:
        """Publish one batch per source if this relay holds the lease, and the `handed`
        documents of the sources not read; return how many were sent. A source that filled
        its batch stays due for the next run."""
        due = list(self.sources if sources is None else sources)
        handed = {name: docs for name, docs in (handed or {}).items() if name not in due}
        if not await self._hold_lease():
            due += list(handed)  # whoever publishes them reads them
            if self._held_elsewhere is None:  # nobody to ask: try again shortly
                self._dirty.update(due)
                self._retry_in = min(0.5, self._lease.total_seconds() / 4)
            elif ask_holder:
                # The holder publishes it now. Look once more when its lease has surely run
                # out, in case it died holding it; after that the safety timer.
                await self._held_elsewhere()
                self._dirty.update(due)
                self._retry_in = self._lease.total_seconds() + 0.5
            return 0
        self._retry_in = 0.0
        sent = 0
        for source in due:
            published = await (
                self._drain_rows() if source == OUTBOX else self._drain_embedded(source)
            )
            if published >= self._batch_size:
                self._dirty.add(source)
            sent += published
        for source, documents in handed.items():
            sent += await self._publish_documents(self._db[source], documents)
        return sent

    async def _drain_rows(self) -> int:
        pending = self._outbox.find(
            {"status": "pending"},
            projection={"subject": 1, "body": 1, "type": 1, "trace": 1},
            sort=[("seq", ASCENDING)],
            limit=self._batch_size,
        )
        sent: list[str] = []
        try:
            async for document in pending:
                with telemetry.resumed(
                    self._tracer, f"{document['type']} outbox publish", document.get("trace"),
                    **{"messaging.message.id": document["_id"]},
                ):  # fmt: skip
                    await self._publish(document["_id"], document["subject"], document["body"])
                sent.append(document["_id"])
                OUTBOX_PUBLISHED.labels(type=document["type"]).inc()
        finally:
            # Mark what was confirmed even when the batch stopped half way.
            if sent:
                await self._outbox.update_many(
                    {"_id": {"$in": sent}},
                    {"$set": {"status": "sent", "sent_at": datetime.now(UTC)}},
                )
        return len(sent)

    async def _drain_embedded(self, name: str) -> int:
        collection = self._db[name]
        documents = await collection.find(
            {EVENTS_SEQ: {"$gte": 0}},
            projection={EVENTS: 1},
            sort=[(EVENTS_SEQ, ASCENDING)],
            limit=self._batch_size,
        ).to_list()
        return await self._publish_documents(collection, documents)

    async def _publish_documents(
        self, collection: AsyncCollection[Document], documents: Sequence[Document]
    ) -> int:
        """Publish each document's embedded events in order, then mark them published."""
        # The documents whose every pending event was published, by how many they had.
        done: dict[int, list[object]] = {}
        sent = 0
        try:
            for document in documents:
                events = document.get(EVENTS) or []
                for row in events:
                    with telemetry.resumed(
                        self._tracer, f"{row['type']} outbox publish", row.get("trace"),
                        **{"messaging.message.id": row["id"]},
                    ):  # fmt: skip
                        await self._publish(row["id"], row["subject"], row["body"])
                    OUTBOX_PUBLISHED.labels(type=row["type"]).inc()
                    sent += 1
                done.setdefault(len(events), []).append(document["_id"])
        finally:
            # One update for the batch (one per distinct count of events, nearly always
            # one), not one per document: SecantusDB spent 0.89 ms of CPU per document
            # marked one statement each, 0.57 ms in one statement per 16 (`make bench
            # BENCH=statements`). The documents are found by `_id $in` (an $or would scan
            # the whole collection). A document that gained events meanwhile has more than
            # it had and does not match: its events stay pending, and the ones already
            # published are re-sent next run, which JetStream drops as repeats.
            for count, ids in done.items():
                await collection.update_many(
                    {"_id": {"$in": ids}, EVENTS: {"$size": count}},
                    {"$unset": {EVENTS: "", EVENTS_SEQ: ""}},
                )
        return sent

    async def pending_count(self) -> int:
        rows = await self._outbox.count_documents({"status": "pending"})
        for name in self._embedded:
            rows += await self._db[name].count_documents({EVENTS_SEQ: {"$gte": 0}})
        return rows

    async def oldest_pending_age(self, now: datetime) -> float:
        """Seconds the oldest unpublished event has waited, in the `outbox` rows or embedded
        in a document; 0 when none waits."""
        written: list[datetime] = []
        row = await self._outbox.find_one(
            {"status": "pending"}, projection={"created_at": 1}, sort=[("seq", ASCENDING)]
        )
        if row is not None:
            created: datetime = row["created_at"]
            written.append(created if created.tzinfo else created.replace(tzinfo=UTC))
        for name in self._embedded:
            # EVENTS_SEQ is the first pending event's time.time_ns() at write (`_rows`), and
            # indexed: the smallest one is the oldest wait in that collection.
            document = await self._db[name].find_one(
                {EVENTS_SEQ: {"$gte": 0}},
                projection={EVENTS_SEQ: 1},
                sort=[(EVENTS_SEQ, ASCENDING)],
            )
            if document is not None:
                written.append(datetime.fromtimestamp(document[EVENTS_SEQ] / 1e9, UTC))
        if not written:
            return 0.0
        return max((now - min(written)).total_seconds(), 0.0)

    async def run(self) -> None:
        """Loop until `stop`; back off while NATS or MongoDB is away."""
        failures = 0
        while not self._stopping.is_set():
            self.wake.clear()  # before the batch, so a write during it is not missed
            due, self._dirty = self._dirty, set()
            handed, self._handed = self._handed, {}
            written_here, self._written_here = self._written_here, False
            try:
                await self.run_once(
                    [s for s in self.sources if s in due], ask_holder=written_here, handed=handed
                )
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS and MongoDB outages alike: log, back off, retry
                failures += 1
                self._dirty.update(self.sources)
                self._held_until = 0.0
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning("outbox_publish_failed", error=type(exc).__name__, attempt=failures)
            if self._stopping.is_set():
                break
            if failures:
                delay = min(0.5 * (2 ** min(failures, 5)), 10.0)
            elif self._dirty:  # a full batch, or the lease is held elsewhere for now
                delay = self._retry_in
            else:
                delay = self._poll
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=delay)
            if not failures and not self._dirty and not self.wake.is_set():
                self._dirty.update(self.sources)  # the safety timer ran out: look everywhere

    async def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
        with contextlib.suppress(PyMongoError):
            await self.release_lease()
