"""The only module of the checkin service that touches MongoDB.

Every fact is one document in `entries` (so the timeline is one indexed query). A
command writes exactly one document, without a transaction: a new entry (insert), or a
change of the entry it acts on (an update guarded by the entry's `version`). That
document also keeps the command (`commands`: its id, fingerprint and result, so a repeat
replays it) and the events it produced until the relay has published them (`outbox`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from shared.grouped_inserts import GroupedInserts
from shared.mongo import Database, Document, Session
from shared.outbox import EVENTS, EVENTS_SEQ
from shared.problems import InvalidInput

ENTRIES = "entries"
KEYS = "data_keys"  # each member's data key per relationship, wrapped by the master key
COMMANDS = "commands"  # command records of earlier versions, until they expire or are erased
# What a reader never needs: the commands' results and the pending events.
HIDDEN: Document = {"commands": 0, EVENTS: 0, EVENTS_SEQ: 0}


class ConcurrentChange(Exception):
    """A guarded document changed between load and save; the command is decided again."""


class AlreadyThere(Exception):
    """An entry with this id exists (this command's repeat, or what the id stands for)."""


async def ensure_indexes(db: Database) -> None:
    entries = db[ENTRIES]
    await entries.create_index(
        [("relationship_id", 1), ("occurred_at", DESCENDING), ("_id", DESCENDING)]
    )
    await entries.create_index([("relationship_id", 1), ("kind", 1), ("state.status", 1)])
    await entries.create_index([("author_id", 1), ("occurred_at", DESCENDING)])
    await entries.create_index("commands.id")
    await entries.create_index("commands.at")  # the prune finds expired records by it


def may_see(document: Document, viewer: str) -> bool:
    return document.get("visibility") == "shared" or document.get("author_id") == viewer


def visible_branches(viewer: str) -> tuple[Document, Document]:
    """What a viewer may see, as two queries rather than one `$or`: SecantusDB answers any
    `$or` (or `$and`) by scanning the whole collection, every relationship's entries."""
    return {"visibility": "shared"}, {"visibility": {"$ne": "shared"}, "author_id": viewer}


NEWEST_FIRST = [("occurred_at", DESCENDING), ("_id", DESCENDING)]


def newest_first(documents: list[Document]) -> list[Document]:
    return sorted(documents, key=lambda d: (d["occurred_at"], d["_id"]), reverse=True)


async def find_visible(
    db: Database, query: Document, viewer: str, limit: int | None = None
) -> list[Document]:
    """The entries matching `query` that `viewer` may see, newest first, at most `limit`."""
    found: list[Document] = []
    for branch in visible_branches(viewer):
        found += (
            await db[ENTRIES]
            .find({**query, **branch}, projection=HIDDEN, sort=NEWEST_FIRST, limit=limit or 0)
            .to_list()
        )
    found = newest_first(found)
    return found if limit is None else found[:limit]


async def get_entry(
    db: Database, relationship_id: str, entry_id: str, kind: str, viewer: str
) -> Document | None:
    """An entry of this relationship that the viewer may see; anything else is None (404).
    With its commands (a repeat of a command on it is found there) but not its events."""
    found = await db[ENTRIES].find_one(
        {"_id": entry_id, "relationship_id": relationship_id, "kind": kind},
        projection={EVENTS: 0, EVENTS_SEQ: 0},
    )
    return found if found is not None and may_see(found, viewer) else None


def command_in(document: Document, command_id: str) -> Document | None:
    return next((c for c in document.get("commands", ()) if c["id"] == command_id), None)


async def find_command(db: Database, command_id: str) -> Document | None:
    """The record of a command already done (with its result), wherever it was written."""
    found = await db[ENTRIES].find_one({"commands.id": command_id}, projection={"commands": 1})
    return None if found is None else command_in(found, command_id)


async def insert_entry(inserts: GroupedInserts, document: Document) -> None:
    """Into `entries`, together with the check-ins written at the same moment."""
    try:
        await inserts.insert(document)
    except DuplicateKeyError as exc:
        raise AlreadyThere(document["_id"]) from exc


async def change_entry(
    db: Database,
    entry_id: str,
    version: int,
    set_fields: dict[str, Any],
    command: Document,
    events: Document,
) -> None:
    """Change one entry if it is still at `version`, keeping the command and its events."""
    update: Document = {
        "$set": set_fields,
        "$inc": {"version": 1},
        "$push": {"commands": command, **events.get("$push", {})},
    }
    if "$min" in events:
        update["$min"] = events["$min"]
    result = await db[ENTRIES].update_one({"_id": entry_id, "version": version}, update)
    if result.matched_count != 1:
        raise ConcurrentChange(f"{entry_id} changed meanwhile")


async def set_state(db: Database, entry_id: str, set_fields: dict[str, Any]) -> None:
    """A change that follows from another entry (idempotent, so it may be repeated)."""
    await db[ENTRIES].update_one({"_id": entry_id}, {"$set": set_fields, "$inc": {"version": 1}})


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
    query: Document = {"relationship_id": relationship_id}
    if kinds:
        query["kind"] = {"$in": kinds}
    parts = [query]
    if cursor:
        # After the cursor: older, or as old with a smaller id (two queries, not an $or).
        at, entry_id = decode_cursor(cursor)
        parts = [
            {**query, "occurred_at": at, "_id": {"$lt": entry_id}},
            {**query, "occurred_at": {"$lt": at}},
        ]
    found: list[Document] = []
    for part in parts:
        found += await find_visible(db, part, viewer, limit + 1)
    found = newest_first(found)
    page, more = found[:limit], len(found) > limit
    return page, encode_cursor(page[-1]) if more and page else None


async def entries_of_kind(
    db: Database, relationship_id: str, kind: str, viewer: str, extra: Document | None = None
) -> list[Document]:
    query = {"relationship_id": relationship_id, "kind": kind, **(extra or {})}
    return await find_visible(db, query, viewer)


async def count_of_kind(db: Database, relationship_id: str, kind: str) -> int:
    return await db[ENTRIES].count_documents({"relationship_id": relationship_id, "kind": kind})


async def authored_by(db: Database, member_id: str) -> list[Document]:
    return (
        await db[ENTRIES]
        .find({"author_id": member_id}, projection=HIDDEN, sort=[("occurred_at", 1)])
        .to_list()
    )


async def prune_command_records(db: Database, before: datetime) -> int:
    """Command records made before `before` go: their fingerprint and stored result answered
    retries long enough. One write over every entry holding one (and the records of earlier
    versions, kept apart). How many entries lost a record."""
    pruned = await db[ENTRIES].update_many(
        {"commands.at": {"$lt": before}}, {"$pull": {"commands": {"at": {"$lt": before}}}}
    )
    await db[COMMANDS].delete_many({"at": {"$lt": before}})
    return pruned.modified_count


async def erase_member(db: Database, session: Session, member_id: str) -> None:
    await db[ENTRIES].delete_many({"author_id": member_id}, session=session)
    # Their commands on others' entries (answers, acceptances) go too.
    await db[ENTRIES].update_many(
        {"commands.actor": member_id},
        {"$pull": {"commands": {"actor": member_id}}},
        session=session,
    )
    await db[COMMANDS].delete_many({"actor": member_id}, session=session)


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    await db[ENTRIES].delete_many({"relationship_id": relationship_id}, session=session)
    await db[COMMANDS].delete_many({"relationship_id": relationship_id}, session=session)


# -- data keys (services/checkin/keyring.py) ----------------------------------------------
async def ensure_key_indexes(db: Database) -> None:
    await db[KEYS].create_index("member_id")
    await db[KEYS].create_index("relationship_id")
    await db[KEYS].create_index("wrapped.master")


async def data_key(db: Database, name: str) -> Document | None:
    return await db[KEYS].find_one({"_id": name})


async def add_data_key(
    db: Database, name: str, relationship_id: str, member_id: str, wrapped: Document
) -> Document:
    """Store a new wrapped key, unless a concurrent command stored one first: either way,
    the stored one."""
    try:
        await db[KEYS].insert_one({
            "_id": name, "relationship_id": relationship_id, "member_id": member_id,
            "wrapped": wrapped,
        })  # fmt: skip
    except DuplicateKeyError:
        found = await db[KEYS].find_one({"_id": name})
        assert found is not None
        return found
    return {"_id": name, "wrapped": wrapped}


async def delete_member_keys(db: Database, session: Session, member_id: str) -> None:
    await db[KEYS].delete_many({"member_id": member_id}, session=session)


async def delete_relationship_keys(db: Database, session: Session, relationship_id: str) -> None:
    await db[KEYS].delete_many({"relationship_id": relationship_id}, session=session)


async def data_keys_not_under(db: Database, master: str) -> AsyncIterator[Document]:
    async for found in db[KEYS].find({"wrapped.master": {"$ne": master}}):
        yield found


async def rewrap_data_key(db: Database, found: Document, wrapped: Document) -> int:
    """Replace the wrapping, unless another replica rewrapped it meanwhile (1 if changed)."""
    result = await db[KEYS].update_one(
        {"_id": found["_id"], "wrapped": found["wrapped"]}, {"$set": {"wrapped": wrapped}}
    )
    return result.modified_count
