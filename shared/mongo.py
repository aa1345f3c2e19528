"""MongoDB access through PyMongo's async API, and the transaction helper."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import pymongo
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandListener
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Session = AsyncClientSession


def create_client(
    url: str, app_name: str, timeout: float = 5.0, listeners: Sequence[CommandListener] = ()
) -> AsyncMongoClient[Document]:
    """Create the client inside the running event loop (it is bound to that loop).

    Without retryable writes. Our writes do not lean on them: each is idempotent where it
    stands (ids derived from command and event ids, processed markers inside the effect's
    transaction, version guards, $min/$set), which the fault suite proves by restarting
    MongoDB under load, and a restart forgets the server's retryable-write records anyway.
    On SecantusDB they cost a great deal: it keeps a record of every retryable write for 30
    minutes, up to 10,000, and scans them all on each write and sorts them all once full,
    so a server past 10,000 writes in half an hour spent ~35 ms per write, against ~1.3 ms
    without (docs/architecture.md, pitfalls). Transactions' commits are still retried once.
    """
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=int(timeout * 1000),
        retryWrites=False,
        w="majority",
        event_listeners=list(listeners),
    )


class Transact(Protocol):
    """The one door to a transaction: a service's is `ServiceRuntime.transact` (which also
    wakes its outbox relay); `transactions(client)` is the bare one, for tests and tools."""

    async def __call__(self, work: Callable[[Session], Awaitable[T]]) -> T: ...


def transactions(client: AsyncMongoClient[Document]) -> Transact:
    class _Bare:
        async def __call__(self, work: Callable[[Session], Awaitable[T]]) -> T:
            return await in_transaction(client, work)

    return _Bare()


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[Session], Awaitable[T]]
) -> T:
    """Run `work` in one transaction, retried on transient errors and unknown commit results.

    `work` may run more than once, so it must do nothing but database writes
    through the session it is given.
    """
    async with client.start_session() as session:
        return await session.with_transaction(
            work,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )


async def ping(client: AsyncMongoClient[Document], timeout: float) -> bool:
    """Whether MongoDB answers within `timeout` seconds. Bounded on its own: a server that
    accepts connections but has stalled would otherwise keep a readiness check waiting, with
    no answer at all for whoever asked (the client's timeouts bound finding a server, not a
    command's answer)."""
    try:
        with pymongo.timeout(timeout):
            await client.admin.command("ping")
    except Exception:
        return False
    return True


async def next_due(collection: AsyncCollection[Document], due_field: str) -> Any:
    """The earliest `due_field` value in the collection (None when nothing is scheduled):
    one read through the field's index, so a tick can sleep until then."""
    found = await collection.find_one(
        {due_field: {"$gt": EPOCH}}, projection={due_field: 1}, sort=[(due_field, 1)]
    )
    return None if found is None else found[due_field]


async def claim_next(
    collection: AsyncCollection[Document],
    due_field: str,
    now: Any,
    changes: Document,
    candidates: int = 20,
) -> Document | None:
    """Claim the earliest document whose `due_field` has come (<= now), for one replica only.

    Candidates are read through the index on `due_field`; one is taken with an update
    conditional on the value just read, and `changes` must move `due_field` on, so a
    replica that read the same candidate finds it gone. (A single findAndModify with a
    sort would do the same, but SecantusDB answers that with a collection scan.)
    Returns the document as it was before the claim.
    """
    due = collection.find({due_field: {"$lte": now}}, sort=[(due_field, 1)], limit=candidates)
    for document in await due.to_list():
        taken = await collection.update_one(
            {"_id": document["_id"], due_field: document[due_field]}, {"$set": changes}
        )
        if taken.modified_count == 1:
            return document
    return None


CLAIM_FIELD = "claim"  # the token of the round that last claimed a document (claim_many)


async def claim_many(
    collection: AsyncCollection[Document],
    due_field: str,
    now: Any,
    changes: Document,
    limit: int,
) -> list[Document]:
    """Claim up to `limit` documents whose `due_field` has come, for one replica only, in
    three operations whatever their number: read the earliest through the index, take each
    with an update conditional on the value just read (one bulk write), and read back which
    carry this round's token. `changes` must move `due_field` on. Returns the documents as
    they were read before the claim, earliest first."""
    due = await collection.find(
        {due_field: {"$lte": now}}, sort=[(due_field, 1)], limit=limit
    ).to_list()
    if not due:
        return []
    token = uuid.uuid4().hex
    await collection.bulk_write(
        [UpdateOne({"_id": d["_id"], due_field: d[due_field]},
                   {"$set": {**changes, CLAIM_FIELD: token}}) for d in due],
        ordered=False,
    )  # fmt: skip
    mine = await collection.find(
        {"_id": {"$in": [d["_id"] for d in due]}, CLAIM_FIELD: token}, projection={"_id": 1}
    ).to_list()
    taken = {d["_id"] for d in mine}
    return [d for d in due if d["_id"] in taken]
