"""Transactional outbox: a fact and its events commit together; a relay publishes them.

Writers add envelopes inside the same transaction as the fact. One relay per
service holds a lease (so replicas never publish out of order side by side),
publishes pending events in write order with their id as `Nats-Msg-Id`, and
marks them sent. A relay that dies after publishing but before marking re-sends
on the next run; JetStream drops the repeat inside its de-duplication window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from opentelemetry.trace import NoOpTracer, Tracer
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared import telemetry
from shared.envelope import Envelope, new_id
from shared.logging import get_logger
from shared.messages.base import subject_of
from shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from shared.mongo import Database, Session
from shared.tombstones import members_named

log = get_logger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_lease"
SENT_RETENTION = timedelta(days=7)

# Publishes one event: (event id, subject, body). Raises when NATS did not confirm.
Publish = Callable[[str, str, bytes], Awaitable[None]]


class Outbox:
    """The writing side, used inside a service's transactions."""

    def __init__(self, db: Database, namespace: str) -> None:
        self._collection = db[OUTBOX]
        self._namespace = namespace
        self._wake: asyncio.Event | None = None

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("status", ASCENDING), ("seq", ASCENDING)])
        await self._collection.create_index(
            "sent_at", expireAfterSeconds=int(SENT_RETENTION.total_seconds())
        )
        await self._collection.create_index("about")

    async def add(self, session: Session, *envelopes: Envelope) -> None:
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

    def attach(self, wake: asyncio.Event) -> None:
        """Let committed writes nudge the relay in this process instead of waiting a poll."""
        self._wake = wake

    def committed(self) -> None:
        if self._wake is not None:
            self._wake.set()


class OutboxRelay:
    """Publishes pending events; safe to run in every replica (one holds the lease)."""

    def __init__(
        self,
        db: Database,
        publish: Publish,
        *,
        batch_size: int = 100,
        poll_seconds: float = 0.5,
        lease_seconds: float = 10.0,
        relay_id: str | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._outbox = db[OUTBOX]
        self._leases = db[LEASES]
        self._publish = publish
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self.relay_id = relay_id or new_id()
        self._tracer = tracer or NoOpTracer()
        self.wake = asyncio.Event()
        self._stopping = asyncio.Event()

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

    async def release_lease(self) -> None:
        await self._leases.delete_one({"_id": "relay", "owner": self.relay_id})

    async def run_once(self) -> int:
        """Publish one batch if this relay holds the lease; return how many were sent."""
        if not await self.acquire_lease():
            return 0
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

    async def pending_count(self) -> int:
        return await self._outbox.count_documents({"status": "pending"})

    async def oldest_pending_age(self, now: datetime) -> float:
        """Seconds the oldest unpublished event has waited; 0 when none waits."""
        oldest = await self._outbox.find_one(
            {"status": "pending"}, projection={"created_at": 1}, sort=[("seq", ASCENDING)]
        )
        if oldest is None:
            return 0.0
        created: datetime = oldest["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return max((now - created).total_seconds(), 0.0)

    async def run(self) -> None:
        """Loop until `stop`; back off while NATS or MongoDB is away."""
        failures = 0
        while not self._stopping.is_set():
            self.wake.clear()  # before the batch, so a commit during it is not missed
            try:
                sent = await self.run_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS and MongoDB outages alike: log, back off, retry
                failures += 1
                sent = 0
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning("outbox_publish_failed", error=type(exc).__name__, attempt=failures)
            if sent >= self._batch_size or self._stopping.is_set():
                continue
            delay = min(self._poll * (2 ** min(failures, 5)), 10.0) if failures else self._poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)

    async def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
        with contextlib.suppress(PyMongoError):
            await self.release_lease()
