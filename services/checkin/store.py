"""The only module of the checkin service that touches MongoDB.

Every fact is one document in `entries` (so the timeline is one indexed query);
facts with state (bids, boundaries, conflicts) carry a `version` that guards
concurrent changes. `commands` remembers each command id with its result.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from shared.mongo import Database, Document, Session
from shared.problems import Conflict, InvalidInput

ENTRIES = "entries"
COMMANDS = "commands"


class ConcurrentChange(Exception):
    """A guarded document changed between load and save; the command is planned again."""


@dataclass
class Update:
    entry_id: str
    version: int
    set_fields: dict[str, Any]


@dataclass
class Writes:
    inserts: list[Document] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)


async def ensure_indexes(db: Database, command_ttl: timedelta) -> None:
    # A command record answers retries of its command, then expires (it holds the result).
    await db[COMMANDS].create_index("at", expireAfterSeconds=int(command_ttl.total_seconds()))
    await db[COMMANDS].create_index("actor")
    await db[COMMANDS].create_index("result.author_id")
    await db[COMMANDS].create_index("relationship_id")
    entries = db[ENTRIES]
    await entries.create_index(
        [("relationship_id", 1), ("occurred_at", DESCENDING), ("_id", DESCENDING)]
    )
    await entries.create_index([("relationship_id", 1), ("kind", 1), ("state.status", 1)])
    await entries.create_index([("author_id", 1), ("occurred_at", DESCENDING)])


def visible_to(viewer: str) -> Document:
    return {"$or": [{"visibility": "shared"}, {"author_id": viewer}]}


async def get_entry(
    db: Database, relationship_id: str, entry_id: str, kind: str, viewer: str
) -> Document | None:
    """An entry of this relationship that the viewer may see; anything else is None (404)."""
    return await db[ENTRIES].find_one(
        {"_id": entry_id, "relationship_id": relationship_id, "kind": kind, **visible_to(viewer)}
    )


async def entry_exists(db: Database, entry_id: str) -> bool:
    return await db[ENTRIES].count_documents({"_id": entry_id}, limit=1) > 0


async def find_command(db: Database, command_id: str) -> Document | None:
    return await db[COMMANDS].find_one({"_id": command_id})


async def commit(db: Database, session: Session, command: Document, writes: Writes) -> None:
    """Write the command record and the facts; raise ConcurrentChange when a guard fails."""
    try:
        await db[COMMANDS].insert_one(command, session=session)
        if writes.inserts:
            await db[ENTRIES].insert_many(writes.inserts, session=session)
    except DuplicateKeyError as exc:
        if "commands" in str(exc):
            raise ConcurrentChange("the same command is being handled concurrently") from exc
        raise Conflict("this has already been recorded", code="already_recorded") from exc
    for update in writes.updates:
        result = await db[ENTRIES].update_one(
            {"_id": update.entry_id, "version": update.version},
            {"$set": update.set_fields, "$inc": {"version": 1}},
            session=session,
        )
        if result.matched_count != 1:
            raise ConcurrentChange(f"{update.entry_id} changed meanwhile")


def encode_cursor(entry: Document) -> str:
    raw = json.dumps([entry["occurred_at"].isoformat(), entry["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        occurred_at, entry_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(occurred_at), str(entry_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("this cursor is not one we gave out", field="cursor") from exc


async def timeline(
    db: Database,
    relationship_id: str,
    viewer: str,
    limit: int,
    cursor: str | None,
    kinds: list[str] | None,
) -> tuple[list[Document], str | None]:
    query: Document = {"relationship_id": relationship_id, **visible_to(viewer)}
    if kinds:
        query["kind"] = {"$in": kinds}
    if cursor:
        at, entry_id = decode_cursor(cursor)
        query = {
            "$and": [
                query,
                {
                    "$or": [
                        {"occurred_at": {"$lt": at}},
                        {"occurred_at": at, "_id": {"$lt": entry_id}},
                    ]
                },
            ]
        }
    found = (
        await db[ENTRIES]
        .find(query, sort=[("occurred_at", DESCENDING), ("_id", DESCENDING)], limit=limit + 1)
        .to_list()
    )
    page, more = found[:limit], len(found) > limit
    return page, encode_cursor(page[-1]) if more and page else None


async def entries_of_kind(
    db: Database, relationship_id: str, kind: str, viewer: str, extra: Document | None = None
) -> list[Document]:
    query = {
        "relationship_id": relationship_id,
        "kind": kind,
        **visible_to(viewer),
        **(extra or {}),
    }
    return await db[ENTRIES].find(query, sort=[("occurred_at", DESCENDING)]).to_list()


async def count_of_kind(db: Database, relationship_id: str, kind: str) -> int:
    return await db[ENTRIES].count_documents({"relationship_id": relationship_id, "kind": kind})


async def authored_by(db: Database, member_id: str) -> list[Document]:
    return await db[ENTRIES].find({"author_id": member_id}, sort=[("occurred_at", 1)]).to_list()


async def erase_member(db: Database, session: Session, member_id: str) -> None:
    await db[ENTRIES].delete_many({"author_id": member_id}, session=session)
    # Their commands, and the others' commands whose result is one of their entries (an
    # answer to their bid, an acceptance of their boundary holds a copy of it).
    await db[COMMANDS].delete_many(
        {"$or": [{"actor": member_id}, {"result.author_id": member_id}]}, session=session
    )


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    await db[ENTRIES].delete_many({"relationship_id": relationship_id}, session=session)
    await db[COMMANDS].delete_many({"relationship_id": relationship_id}, session=session)
