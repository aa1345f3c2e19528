"""The only module of the scheduler that touches MongoDB.

`schedules` holds one document per thing that fires (a ritual, a member's reminder, a
boundary window, a relationship's review, a program), with its next fire time indexed;
a tick claims due ones with a lease so replicas never fire the same occurrence.
`occurrence` is what is due; `next_fire_at` is when to look at the item next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne

from shared.membership import MEMBERSHIPS
from shared.mongo import Database, Document, Session, claim_next

RITUALS = "rituals"
MEMBERS = "member_settings"
SCHEDULES = "schedules"
OUTCOMES = "outcomes"
CHECKINS = "member_checkins"
BACKOFF = "backoff"


async def ensure_indexes(db: Database) -> None:
    await db[RITUALS].create_index("relationship_id")
    await db[SCHEDULES].create_index([("next_fire_at", ASCENDING)])
    await db[SCHEDULES].create_index("relationship_id")


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


async def drop_schedule(db: Database, session: Session, schedule_id: str) -> None:
    await db[SCHEDULES].delete_one({"_id": schedule_id}, session=session)


async def drop_relationship_schedules(db: Database, session: Session, relationship_id: str) -> None:
    await db[SCHEDULES].delete_many({"relationship_id": relationship_id}, session=session)


async def schedule(db: Database, schedule_id: str) -> Document | None:
    return await db[SCHEDULES].find_one({"_id": schedule_id})


async def schedules_of(db: Database, relationship_id: str, kind: str) -> list[Document]:
    return await db[SCHEDULES].find({"relationship_id": relationship_id, "kind": kind}).to_list()


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


async def record_checkin(db: Database, session: Session | None, key: str) -> None:
    await db[CHECKINS].update_one(
        {"_id": key}, {"$set": {"at": True}}, upsert=True, session=session
    )


async def record_checkins(db: Database, keys: list[str]) -> None:
    await db[CHECKINS].bulk_write(
        [UpdateOne({"_id": key}, {"$set": {"at": True}}, upsert=True) for key in set(keys)],
        ordered=False,
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


async def erase_member(db: Database, session: Session, member_id: str) -> None:
    await db[MEMBERS].delete_one({"_id": member_id}, session=session)
    await db[SCHEDULES].delete_one({"_id": f"reminder:{member_id}"}, session=session)
    await db[CHECKINS].delete_many({"_id": {"$regex": f"^{member_id}:"}}, session=session)


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    await db[RITUALS].delete_many({"relationship_id": relationship_id}, session=session)
    await db[BACKOFF].delete_one({"_id": relationship_id}, session=session)
