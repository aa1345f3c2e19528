"""The only module of the scheduler that touches MongoDB.

`schedules` holds one document per thing that fires (a ritual, a member's reminder, a
boundary window, a relationship's review, a program), with its next fire time indexed;
a tick claims due ones with a lease so replicas never fire the same occurrence.
`occurrence` is what is due; `next_fire_at` is when to look at the item next.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne

from shared.membership import MEMBERSHIPS
from shared.mongo import Database, Document, Session, claim_next, next_due

RITUALS = "rituals"
MEMBERS = "member_settings"
SCHEDULES = "schedules"
OUTCOMES = "outcomes"
CHECKINS = "member_checkins"
BACKOFF = "backoff"
DATES = "dates"
PROGRAMS = "programs"
REVIEWS = "reviews"
REVIEW_LOG = "review_log"
REVIEW_SETTINGS = "review_settings"
KEYS = "data_keys"


async def ensure_indexes(db: Database) -> None:
    await db[RITUALS].create_index("relationship_id")
    await db[SCHEDULES].create_index([("next_fire_at", ASCENDING)])
    await db[SCHEDULES].create_index("relationship_id")
    await db[DATES].create_index([("relationship_id", ASCENDING), ("starts_at", ASCENDING)])
    await db[REVIEWS].create_index([("relationship_id", ASCENDING), ("period_end", ASCENDING)])
    await db[REVIEW_LOG].create_index([("relationship_id", ASCENDING), ("at", ASCENDING)])
    await db[KEYS].create_index("member_id")
    await db[KEYS].create_index("relationship_id")


async def save_ritual(db: Database, session: Session, ritual: Document) -> None:
    await db[RITUALS].replace_one({"_id": ritual["_id"]}, ritual, upsert=True, session=session)


async def rituals_of(db: Database, relationship_id: str) -> list[Document]:
    return await db[RITUALS].find({"relationship_id": relationship_id}).to_list()


async def save_member_settings(db: Database, session: Session, settings: Document) -> None:
    await db[MEMBERS].replace_one({"_id": settings["_id"]}, settings, upsert=True, session=session)


async def member_settings(
    db: Database, member_id: str, session: Session | None = None
) -> Document | None:
    return await db[MEMBERS].find_one({"_id": member_id}, session=session)


async def member_timezones(db: Database, member_ids: list[str]) -> dict[str, str]:
    found = db[MEMBERS].find({"_id": {"$in": member_ids}}, projection={"timezone": 1})
    return {m["_id"]: m["timezone"] for m in await found.to_list() if m.get("timezone")}


# -- schedules ---------------------------------------------------------------------------


async def put_schedule(db: Database, session: Session, schedule: Document) -> None:
    """Create or replace a schedule (its lease, if any, is dropped: the new plan wins)."""
    await db[SCHEDULES].replace_one(
        {"_id": schedule["_id"]}, schedule, upsert=True, session=session
    )


async def add_schedules(db: Database, schedules: list[Document]) -> None:
    """Add schedules unless they exist already (a re-fired item must not move a leased one)."""
    for doc in schedules:
        fields = {k: v for k, v in doc.items() if k != "_id"}
        await db[SCHEDULES].update_one({"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True)


async def drop_schedule(db: Database, session: Session, schedule_id: str) -> None:
    await db[SCHEDULES].delete_one({"_id": schedule_id}, session=session)


async def drop_relationship_schedules(db: Database, session: Session, relationship_id: str) -> None:
    await db[SCHEDULES].delete_many({"relationship_id": relationship_id}, session=session)


async def schedule(db: Database, schedule_id: str) -> Document | None:
    return await db[SCHEDULES].find_one({"_id": schedule_id})


async def schedules_of(db: Database, relationship_id: str, kind: str) -> list[Document]:
    return await db[SCHEDULES].find({"relationship_id": relationship_id, "kind": kind}).to_list()


async def next_fire_at(db: Database) -> datetime | None:
    """When the earliest item falls due (None: nothing scheduled)."""
    due: datetime | None = await next_due(db[SCHEDULES], "next_fire_at")
    return due


async def claim_due(
    db: Database, now: datetime, owner: str, lease_until: datetime
) -> Document | None:
    """Take one due item. The lease is its next fire time moved to the lease's end, so the
    claim reads one index range (only due items) and a claim left by a crashed replica
    simply falls due again when the lease runs out."""
    changes = {"lease_owner": owner, "next_fire_at": lease_until}
    return await claim_next(db[SCHEDULES], "next_fire_at", now, changes)


async def finish(
    db: Database, schedule_id: str, owner: str, changes: dict[str, Any] | None
) -> bool:
    """Move a fired item on (or drop it when `changes` is None), if this owner still holds it."""
    guard = {"_id": schedule_id, "lease_owner": owner}
    if changes is None:
        return (await db[SCHEDULES].delete_one(guard)).deleted_count == 1
    update = {"$set": {**changes, "lease_owner": None}}
    return (await db[SCHEDULES].update_one(guard, update)).matched_count == 1


# -- what firing depends on -----------------------------------------------------------------


async def record_outcome(db: Database, session: Session, key: str) -> None:
    await db[OUTCOMES].update_one(
        {"_id": key}, {"$set": {"at": True}}, upsert=True, session=session
    )


async def has_outcome(db: Database, key: str) -> bool:
    return await db[OUTCOMES].count_documents({"_id": key}, limit=1) > 0


async def record_checkins(db: Database, keys: list[str], session: Session | None = None) -> None:
    await db[CHECKINS].bulk_write(
        [UpdateOne({"_id": key}, {"$set": {"at": True}}, upsert=True) for key in sorted(set(keys))],
        ordered=False,
        session=session,
    )


async def checked_in(db: Database, key: str) -> bool:
    return await db[CHECKINS].count_documents({"_id": key}, limit=1) > 0


async def set_backoff(db: Database, session: Session, relationship_id: str, on: bool) -> None:
    if on:
        await db[BACKOFF].update_one(
            {"_id": relationship_id}, {"$set": {"on": True}}, upsert=True, session=session
        )
    else:
        await db[BACKOFF].delete_one({"_id": relationship_id}, session=session)


async def backed_off(db: Database, relationship_ids: list[str]) -> bool:
    return await db[BACKOFF].count_documents({"_id": {"$in": relationship_ids}}, limit=1) > 0


async def relationships_of_member(db: Database, member_id: str) -> list[str]:
    return [d["_id"] async for d in db[MEMBERSHIPS].find({"members": member_id}, {"_id": 1})]


# -- digital dates, the program, reviews -----------------------------------------------------


async def data_key(db: Database, name: str) -> dict[str, str] | None:
    found = await db[KEYS].find_one({"_id": name})
    return None if found is None else dict(found["wrapped"])


async def put_data_key(
    db: Database, name: str, relationship_id: str, member_id: str, wrapped: dict[str, str]
) -> dict[str, str]:
    """Store a new wrapped key unless a concurrent command stored one first; return the one kept."""
    await db[KEYS].update_one(
        {"_id": name},
        {"$setOnInsert": {"relationship_id": relationship_id, "member_id": member_id,
                          "wrapped": wrapped}},
        upsert=True,
    )  # fmt: skip
    kept = await data_key(db, name)
    assert kept is not None
    return kept


async def save_versioned(
    db: Database, session: Session, collection: str, doc: Document, expected: int | None
) -> bool:
    """Write `doc` if nobody changed it since it was read at version `expected` (None: new).
    Two members answering at once: one of them reads again, so no answer is lost."""
    if expected is None:
        result = await db[collection].update_one(
            {"_id": doc["_id"]}, {"$setOnInsert": {k: v for k, v in doc.items() if k != "_id"}},
            upsert=True, session=session,
        )  # fmt: skip
        return result.upserted_id is not None
    replaced = await db[collection].replace_one(
        {"_id": doc["_id"], "version": expected}, doc, session=session
    )
    return replaced.matched_count == 1


async def date_in(
    db: Database, relationship_id: str, date_id: str, session: Session | None = None
) -> Document | None:
    return await db[DATES].find_one(
        {"_id": date_id, "relationship_id": relationship_id}, session=session
    )


async def dates_of(
    db: Database, relationship_id: str, start: datetime | None = None, end: datetime | None = None
) -> list[Document]:
    query: dict[str, Any] = {"relationship_id": relationship_id}
    if start is not None and end is not None:
        query["starts_at"] = {"$lt": end}
        query["ends_at"] = {"$gt": start}
    return await db[DATES].find(query).sort("starts_at", ASCENDING).to_list(500)


async def dates_of_member(db: Database, member_id: str) -> list[Document]:
    query = {"$or": [{"proposed_by": member_id}, {f"answers.{member_id}": {"$exists": True}}]}
    return await db[DATES].find(query).sort("starts_at", ASCENDING).to_list(1000)


async def program(
    db: Database, relationship_id: str, session: Session | None = None
) -> Document | None:
    return await db[PROGRAMS].find_one({"_id": relationship_id}, session=session)


async def drop_program(db: Database, session: Session, relationship_id: str) -> None:
    await db[PROGRAMS].delete_one({"_id": relationship_id}, session=session)


async def review_settings(db: Database, relationship_id: str) -> Document | None:
    return await db[REVIEW_SETTINGS].find_one({"_id": relationship_id})


async def save_review_settings(db: Database, session: Session, doc: Document) -> None:
    await db[REVIEW_SETTINGS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)


async def log_for_review(db: Database, session: Session, entry: Document) -> None:
    """One shared happening a monthly review may tell (never anything private)."""
    await db[REVIEW_LOG].replace_one({"_id": entry["_id"]}, entry, upsert=True, session=session)


async def log_for_review_now(db: Database, entry: Document) -> None:
    """A happening the tick itself saw (a date happened), outside any event's transaction."""
    await db[REVIEW_LOG].replace_one({"_id": entry["_id"]}, entry, upsert=True)


async def review_log(
    db: Database, relationship_id: str, start: datetime, end: datetime
) -> list[Document]:
    query = {"relationship_id": relationship_id, "at": {"$gte": start, "$lt": end}}
    return await db[REVIEW_LOG].find(query).sort("at", ASCENDING).to_list(5000)


async def last_health_before(
    db: Database, relationship_id: str, moment: datetime
) -> Document | None:
    query = {"relationship_id": relationship_id, "kind": "health", "at": {"$lt": moment}}
    return await db[REVIEW_LOG].find_one(query, sort=[("at", -1)])


async def save_review(db: Database, review: Document) -> None:
    await db[REVIEWS].replace_one({"_id": review["_id"]}, review, upsert=True)


async def reviews_of(db: Database, relationship_id: str) -> list[Document]:
    query = {"relationship_id": relationship_id}
    return await db[REVIEWS].find(query).sort("period_end", -1).to_list(120)


async def review_in(db: Database, relationship_id: str, review_id: str) -> Document | None:
    return await db[REVIEWS].find_one({"_id": review_id, "relationship_id": relationship_id})


async def erase_member(
    db: Database, session: Session, member_id: str, relationship_ids: list[str]
) -> None:
    await db[MEMBERS].delete_one({"_id": member_id}, session=session)
    # What they created stops firing for the others: the windows of the boundaries they
    # proposed; the rituals they created, each with its schedule, the nudges about it and
    # the outcomes recorded for it.
    await db[SCHEDULES].delete_many({"created_by": member_id}, session=session)
    rituals = await db[RITUALS].find({"created_by": member_id}, {"_id": 1},
                                     session=session).to_list()  # fmt: skip
    if ritual_ids := [r["_id"] for r in rituals]:
        await db[RITUALS].delete_many({"_id": {"$in": ritual_ids}}, session=session)
        await db[SCHEDULES].delete_many({"ref": {"$in": ritual_ids}}, session=session)
        await db[OUTCOMES].delete_many(
            {"_id": {"$regex": f"^({'|'.join(map(re.escape, ritual_ids))}):"}}, session=session
        )
    # The review log counts the relationship's shared happenings (rituals kept, boundaries
    # agreed, health): a partner could take theirs away and read the member's. It starts
    # again, as insights' relationship figures do (docs/privacy.md §4).
    await db[REVIEW_LOG].delete_many({"relationship_id": {"$in": relationship_ids}},
                                     session=session)  # fmt: skip
    # Their sealed plans become unreadable everywhere (crypto-shredding).
    await db[KEYS].delete_many({"member_id": member_id}, session=session)
    await db[SCHEDULES].delete_many({"kind": "nudge", "member_id": member_id}, session=session)
    # Their id leaves the dates and the program they answered (the rest stays the others').
    answered = f"answers.{member_id}"
    await db[DATES].update_many({answered: {"$exists": True}}, {"$unset": {answered: ""}},
                                session=session)  # fmt: skip
    await db[DATES].update_many({"proposed_by": member_id}, {"$set": {"proposed_by": None}},
                                session=session)  # fmt: skip
    await db[PROGRAMS].update_many(
        {"accepted_by": member_id}, {"$pull": {"accepted_by": member_id}}, session=session
    )
    await db[PROGRAMS].update_many({"proposed_by": member_id}, {"$set": {"proposed_by": None}},
                                   session=session)  # fmt: skip
    await db[SCHEDULES].delete_one({"_id": f"reminder:{member_id}"}, session=session)
    await db[CHECKINS].delete_many({"_id": {"$regex": f"^{member_id}:"}}, session=session)


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    await db[RITUALS].delete_many({"relationship_id": relationship_id}, session=session)
    await db[BACKOFF].delete_one({"_id": relationship_id}, session=session)
    for collection in (DATES, REVIEWS, REVIEW_LOG, KEYS):
        await db[collection].delete_many({"relationship_id": relationship_id}, session=session)
    for collection in (PROGRAMS, REVIEW_SETTINGS):
        await db[collection].delete_one({"_id": relationship_id}, session=session)
