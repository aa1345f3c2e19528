"""The only module of the insights service that touches MongoDB.

Aggregates: `days` (relationship counters per UTC day), `member_days` (a member's
own counters per day), `bids` and `assessments` (one small document each, set by
the events that know their fields), `relationships` (first day, last event, next
evaluation), `state` (flags up, health, current starter). Loading a view reads a
bounded number of documents whatever the history's length.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

from services.insights.domain import (
    ANSWER_ORDER,
    ASSESSMENTS,
    BIDS,
    DAYS,
    HISTORY_DAYS,
    KEEP_ANSWERS,
    MEMBER_DAYS,
    RELATIONSHIPS,
    Contribution,
    View,
    build_view,
)
from services.insights.evaluation import State
from shared.membership import MEMBERSHIPS
from shared.mongo import Database, Document, Session, claim_next

STATE = "state"
MEMBER_HISTORY_DAYS = 60  # the longest streak shown, and the self-report windows


async def ensure_indexes(db: Database) -> None:
    await db[DAYS].create_index([("relationship_id", ASCENDING), ("day", ASCENDING)])
    await db[MEMBER_DAYS].create_index(
        [("relationship_id", ASCENDING), ("member_id", ASCENDING), ("day", ASCENDING)]
    )
    await db[BIDS].create_index([("relationship_id", ASCENDING), ("made_at", DESCENDING)])
    await db[BIDS].create_index([("relationship_id", ASCENDING), ("answered_at", DESCENDING)])
    await db[ASSESSMENTS].create_index(
        [("relationship_id", ASCENDING), ("member_id", ASCENDING), ("at", DESCENDING)]
    )
    await db[RELATIONSHIPS].create_index("next_eval_at")


async def apply(db: Database, session: Session, found: list[Contribution]) -> None:
    for c in found:
        update: dict[str, Any] = {}
        if c.on_insert:
            update["$setOnInsert"] = c.on_insert
        for operator, values in (
            ("$inc", c.inc),
            ("$set", c.set),
            ("$min", c.min),
            ("$max", c.max),
        ):
            if values:
                update[operator] = values
        if c.push:
            order = dict.fromkeys(ANSWER_ORDER, 1)
            update["$push"] = {
                name: {"$each": [entry], "$sort": order, "$slice": -KEEP_ANSWERS}
                for name, entry in c.push.items()
            }
        await db[c.collection].update_one({"_id": c.key}, update, upsert=True, session=session)


async def apply_merged(
    db: Database, session: Session, updates: dict[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    """One bulk write per collection for a whole batch's merged contributions."""
    for collection, writes in updates.items():
        await db[collection].bulk_write(
            [UpdateOne({"_id": key}, update, upsert=True) for key, update in writes],
            ordered=False,
            session=session,
        )


async def request_evaluations(
    db: Database, session: Session, relationship_ids: list[str], at: datetime
) -> None:
    """Ask for evaluations of these relationships no later than `at` (earlier ones stay)."""
    await db[RELATIONSHIPS].bulk_write(
        [UpdateOne({"_id": rid}, {"$min": {"next_eval_at": at}}, upsert=True)
         for rid in relationship_ids],
        ordered=False,
        session=session,
    )  # fmt: skip


async def load_view(
    db: Database, relationship_id: str, now: datetime, session: Session | None = None
) -> View:
    """Fetch the bounded set of documents the rules read, and build the view from them."""
    today = now.astimezone(UTC).date()
    since = (today - timedelta(days=HISTORY_DAYS)).isoformat()
    member_since = (today - timedelta(days=MEMBER_HISTORY_DAYS)).isoformat()
    mine = {"relationship_id": relationship_id}
    days = await db[DAYS].find({**mine, "day": {"$gte": since}}, session=session).to_list()
    member_days = (
        await db[MEMBER_DAYS]
        .find({**mine, "day": {"$gte": member_since}}, session=session)
        .to_list()
    )
    recent_bids = (
        await db[BIDS]
        .find({**mine, "made_at": {"$gte": now - timedelta(days=15)}}, session=session)
        .to_list()
    )
    assessments = (
        await db[ASSESSMENTS]
        .find(mine, sort=[("at", DESCENDING)], limit=50, session=session)
        .to_list()
    )
    relationship = await db[RELATIONSHIPS].find_one({"_id": relationship_id}, session=session)
    membership = await db[MEMBERSHIPS].find_one({"_id": relationship_id}, session=session)
    return build_view(
        relationship_id, now, list(membership["members"]) if membership else [], relationship,
        days, member_days, recent_bids, assessments,
    )  # fmt: skip


async def load_state(db: Database, relationship_id: str, session: Session | None = None) -> State:
    document = await db[STATE].find_one({"_id": relationship_id}, session=session)
    if document is None:
        return State()
    return State(
        flags=document.get("flags", {}),
        health=document.get("health", {}),
        starter=document.get("starter"),
        starters_used=document.get("starters_used", {}),
    )


async def save_state(db: Database, session: Session, relationship_id: str, state: State) -> None:
    await db[STATE].replace_one(
        {"_id": relationship_id},
        {"flags": state.flags, "health": state.health, "starter": state.starter,
         "starters_used": state.starters_used},
        upsert=True, session=session,
    )  # fmt: skip


async def request_evaluation(
    db: Database, session: Session, relationship_id: str, at: datetime
) -> None:
    """Ask for an evaluation no later than `at` (an earlier request stays)."""
    await db[RELATIONSHIPS].update_one(
        {"_id": relationship_id}, {"$min": {"next_eval_at": at}}, upsert=True, session=session
    )


async def schedule_evaluation(
    db: Database, session: Session, relationship_id: str, at: datetime
) -> None:
    await db[RELATIONSHIPS].update_one(
        {"_id": relationship_id}, {"$set": {"next_eval_at": at}}, upsert=True, session=session
    )


async def claim_due(db: Database, now: datetime, next_at: datetime) -> str | None:
    """Claim one relationship whose evaluation is due; the claim moves its next time on,
    so another replica does not take it too."""
    claimed = await claim_next(db[RELATIONSHIPS], "next_eval_at", now, {"next_eval_at": next_at})
    return str(claimed["_id"]) if claimed else None


async def erase_member(
    db: Database, session: Session, member_id: str, relationship_ids: list[str]
) -> None:
    """The member's own counters, assessments and member-only flags go; relationship counts
    carry no member and stay."""
    await db[MEMBER_DAYS].delete_many({"member_id": member_id}, session=session)
    await db[ASSESSMENTS].delete_many({"member_id": member_id}, session=session)
    for relationship_id in relationship_ids:
        state = await db[STATE].find_one({"_id": relationship_id}, session=session)
        if state is None:
            continue
        mine = [k for k, f in state.get("flags", {}).items() if f.get("member_id") == member_id]
        if mine:
            await db[STATE].update_one(
                {"_id": relationship_id}, {"$unset": {f"flags.{k}": "" for k in mine}},
                session=session,
            )  # fmt: skip


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    for name in (DAYS, MEMBER_DAYS, BIDS, ASSESSMENTS):
        await db[name].delete_many({"relationship_id": relationship_id}, session=session)
    await db[RELATIONSHIPS].delete_one({"_id": relationship_id}, session=session)
    await db[STATE].delete_one({"_id": relationship_id}, session=session)


async def member_records(db: Database, member_id: str) -> tuple[list[Document], list[Document]]:
    flags: list[Document] = []
    async for state in db[STATE].find({}, {"flags": 1}):
        for flag in state.get("flags", {}).values():
            if flag.get("member_id") == member_id:
                flags.append({**flag, "relationship_id": state["_id"]})
    days = await db[MEMBER_DAYS].find({"member_id": member_id}, {"_id": 0}).to_list()
    return flags, days
