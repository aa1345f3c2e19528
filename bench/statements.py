"""Statements: what one write statement costs SecantusDB beside the documents in it.

The checkin service groups the entries written at the same moment into one insert_many
(shared/grouped_inserts.py), and its relay marks a published batch with one update_many
(shared/outbox.py). This measures why, on a private SecantusDB with `entries`' own indexes:
its CPU per entry inserted alone against inserted in groups of 8, and per entry marked
published one statement each against 16 in one statement. The ratios are grouped / alone
(below 1: grouping saves that share).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pymongo import AsyncMongoClient, UpdateOne

from bench.ingest import cpu_seconds
from bench.report import conclude
from deploy.processes import free_port
from deploy.servers import mongo_url, start_secantus
from services.checkin.store import ensure_indexes
from shared.outbox import EVENTS, EVENTS_SEQ, ensure_embedded_index

ENTRIES = 1_600
GROUP = 8  # inserts together: what 16 concurrent check-ins gather in a busy moment
MARKED_TOGETHER = 16


def entry() -> dict[str, Any]:
    """An entry as the checkin service stores a shared check-in: fields, command record,
    one embedded event."""
    now = datetime.now(UTC)
    seq = time.time_ns()
    return {
        "_id": uuid.uuid4().hex, "relationship_id": "r" * 32, "kind": "checkin",
        "author_id": "a" * 32, "visibility": "shared", "occurred_at": now, "recorded_at": now,
        "fields": {"mood": 4, "connection": 7, "note": {"sealed": "x" * 80}}, "state": {},
        "version": 1,
        "commands": [{"id": uuid.uuid4().hex, "name": "log_checkin", "actor": "a" * 32,
                      "fingerprint": "f" * 64, "result": {"mood": 4}, "at": now}],
        EVENTS: [{"id": uuid.uuid4().hex, "subject": "attune.checkin.evt.r.checkin.logged",
                  "body": "{" + "x" * 400 + "}", "type": "checkin.logged", "seq": seq,
                  "trace": {}}],
        EVENTS_SEQ: seq,
    }  # fmt: skip


async def measure(url: str, pid: int) -> dict[str, float]:
    """SecantusDB CPU milliseconds per entry, each way."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(url, retryWrites=False)
    out: dict[str, float] = {}
    try:
        for grouped in (False, True):
            db = client[f"bench_statements_{uuid.uuid4().hex[:6]}"]
            await ensure_indexes(db)  # the checkin service's own
            entries = db["entries"]
            await ensure_embedded_index(entries)
            documents = [entry() for _ in range(ENTRIES)]
            started = cpu_seconds([pid])
            if grouped:
                for at in range(0, ENTRIES, GROUP):
                    await entries.insert_many(documents[at : at + GROUP], ordered=False)
            else:
                for document in documents:
                    await entries.insert_one(document)
            inserted = cpu_seconds([pid])
            for at in range(0, ENTRIES, MARKED_TOGETHER):
                batch = documents[at : at + MARKED_TOGETHER]
                unset = {"$unset": {EVENTS: "", EVENTS_SEQ: ""}}
                if grouped:
                    ids = [d["_id"] for d in batch]
                    await entries.update_many({"_id": {"$in": ids}, EVENTS: {"$size": 1}}, unset)
                else:
                    await entries.bulk_write(
                        [UpdateOne({"_id": d["_id"], EVENTS: {"$size": 1}}, unset) for d in batch],
                        ordered=False,
                    )
            marked = cpu_seconds([pid])
            way = "grouped" if grouped else "alone"
            out[f"insert {way}"] = (inserted - started) / ENTRIES * 1000
            out[f"mark {way}"] = (marked - inserted) / ENTRIES * 1000
    finally:
        await client.close()
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_secantus(port, Path(tmp) / "mongo", Path(tmp) / "secantus.log")
        try:
            cost = asyncio.run(measure(mongo_url(port), server.pid))
        finally:
            server.stop()
    alone = cost["insert alone"] + cost["mark alone"]
    grouped = cost["insert grouped"] + cost["mark grouped"]
    print(f"SecantusDB CPU per entry, {ENTRIES} entries with entries' indexes:")
    print(f"  insert alone {cost['insert alone']:.3f} ms, in groups of {GROUP} "
          f"{cost['insert grouped']:.3f} ms")  # fmt: skip
    print(f"  mark one statement each {cost['mark alone']:.3f} ms, {MARKED_TOGETHER} in one "
          f"{cost['mark grouped']:.3f} ms")  # fmt: skip
    conclude(
        f"{grouped:.2f} ms of SecantusDB CPU per entry inserted and marked, grouped",
        f"{alone:.2f} ms one statement per entry",
        "grouped/alone",
        grouped / alone,
    )


if __name__ == "__main__":
    main()
