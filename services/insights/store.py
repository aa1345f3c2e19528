"""The only module of the insights service that touches MongoDB.

Aggregates: `months` (a relationship's month in one document, months.py: its counters per
day in the relationship's zone, and each member's own counters per day in their zone), `bids`,
`assessments`, `conflict_reports`, `occurrences` and `rituals` (one small document
each, set by the events that know their fields), `relationships` (first day, last
event, creator, when members joined, next evaluation), `zones` (members' time zones), `state` (flags
up, health, current starter). Members' own answers live apart from the state the
evaluation rewrites: `flag_responses`, `recommendation_answers`. Loading a view
reads a bounded number of documents whatever the history's length.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import CollectionInvalid, DuplicateKeyError, OperationFailure

from services.insights.domain import (
    ANSWER_ORDER,
    ANSWERS,
    ASSESSMENTS,
    BIDS,
    CONFLICT_REPORTS,
    DAYS,
    HISTORY_DAYS,
    KEEP_ANSWERS,
    MEMBER_DAYS,
    OCCURRENCES,
    RELATIONSHIPS,
    RITUALS,
    ZONES,
    Contribution,
    View,
    Zones,
    build_view,
    relationship_zone,
)
from services.insights.evaluation import State
from services.insights.merging import merged_updates
from services.insights.months import (
    MONTHS,
    day_documents,
    in_months,
    keys,
    member_day_documents,
    months_between,
    old_day_as_contribution,
)
from shared.membership import MEMBERSHIPS
from shared.mongo import Database, Document, Session, claim_many, next_due

STATE = "state"
FLAG_RESPONSES = "flag_responses"
RECOMMENDATION_ANSWERS = "recommendation_answers"
MEMBER_HISTORY_DAYS = 60  # the longest streak shown, and the self-report windows
CONFLICT_DAYS = 60  # longer than any conflict window


async def ensure_indexes(db: Database) -> None:
    # The months have no index (months.py), but the collection must exist before a
    # transaction writes to it: SecantusDB can deadlock creating a collection inside one.
    if MONTHS not in set(await db.list_collection_names()):
        with contextlib.suppress(CollectionInvalid, OperationFailure):  # a replica was first
            await db.create_collection(MONTHS)
    await db[BIDS].create_index([("relationship_id", ASCENDING), ("made_at", DESCENDING)])
    await db[BIDS].create_index([("relationship_id", ASCENDING), ("answered_at", DESCENDING)])
    await db[ASSESSMENTS].create_index(
        [("relationship_id", ASCENDING), ("member_id", ASCENDING), ("at", DESCENDING)]
    )
    await db[RELATIONSHIPS].create_index("next_eval_at")
    await db[CONFLICT_REPORTS].create_index([("relationship_id", ASCENDING), ("at", DESCENDING)])
    await db[OCCURRENCES].create_index([("relationship_id", ASCENDING), ("at", DESCENDING)])
    await db[RITUALS].create_index("relationship_id")
    await db[FLAG_RESPONSES].create_index("relationship_id")
    await db[FLAG_RESPONSES].create_index("member_id")
    await db[RECOMMENDATION_ANSWERS].create_index([("relationship_id", 1), ("member_id", 1)])
    await db[RECOMMENDATION_ANSWERS].create_index("member_id")


# -- time zones ----------------------------------------------------------------------------


async def save_zone(db: Database, session: Session, member_id: str, timezone: str) -> None:
    await db[ZONES].update_one(
        {"_id": member_id}, {"$set": {"timezone": timezone}}, upsert=True, session=session
    )


async def save_creator(db: Database, session: Session, relationship_id: str, member: str) -> None:
    await db[RELATIONSHIPS].update_one(
        {"_id": relationship_id}, {"$set": {"created_by": member}}, upsert=True, session=session
    )


async def save_joined(
    db: Database, session: Session, relationship_id: str, members: list[str], version: int
) -> None:
    """When members joined: the membership version of their joining (a rejoin counts anew;
    the newest wins, whatever order the events arrive in)."""
    await db[RELATIONSHIPS].update_one(
        {"_id": relationship_id}, {"$max": {f"joined.{m}": version for m in members}},
        upsert=True, session=session,
    )  # fmt: skip


async def load_zones(
    db: Database,
    relationship_id: str,
    members: list[str] | None = None,
    session: Session | None = None,
) -> Zones:
    """Members' zones and the relationship's (its earliest member's)."""
    if members is None:
        return (await load_zones_of(db, [relationship_id], session))[relationship_id]
    found = await db[ZONES].find({"_id": {"$in": members}}, session=session).to_list()
    relationship = await db[RELATIONSHIPS].find_one(
        {"_id": relationship_id}, {"created_by": 1, "joined": 1}, session=session
    )
    return _zones(members, {d["_id"]: d["timezone"] for d in found}, relationship)


async def load_zones_of(
    db: Database, relationship_ids: Iterable[str], session: Session | None = None
) -> dict[str, Zones]:
    """`load_zones` for many relationships at once, in three reads whatever their number
    (a batch of events spans many relationships)."""
    ids = sorted(set(relationship_ids))
    memberships = {
        d["_id"]: list(d["members"])
        for d in await db[MEMBERSHIPS].find({"_id": {"$in": ids}}, session=session).to_list()
    }
    everyone = sorted({m for members in memberships.values() for m in members})
    zones = {
        d["_id"]: d["timezone"]
        for d in await db[ZONES].find({"_id": {"$in": everyone}}, session=session).to_list()
    }
    relationships = {
        d["_id"]: d
        for d in await db[RELATIONSHIPS]
        .find({"_id": {"$in": ids}}, {"created_by": 1, "joined": 1}, session=session)
        .to_list()
    }
    return {rid: _zones(memberships.get(rid, []), zones, relationships.get(rid)) for rid in ids}


def _zones(members: list[str], zones: dict[str, str], relationship: Document | None) -> Zones:
    own = {m: zones[m] for m in members if m in zones}
    creator = relationship.get("created_by") if relationship else None
    joined = relationship.get("joined", {}) if relationship else {}
    return Zones(own, relationship_zone(members, creator, own, joined))


async def apply(db: Database, session: Session, found: list[Contribution]) -> None:
    """Each contribution in a write of its own (one event's: see apply_merged for batches)."""
    for c in map(in_months, found):
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


async def apply_merged(db: Database, session: Session, found: list[Contribution]) -> None:
    """A whole batch's contributions merged into one update per document, in one bulk
    write per collection."""
    for collection, writes in merged_updates([in_months(c) for c in found]).items():
        await db[collection].bulk_write(
            [UpdateOne({"_id": key}, update, upsert=True) for key, update in writes],
            ordered=False,
            session=session,
        )


async def load_view(
    db: Database, relationship_id: str, now: datetime, session: Session | None = None
) -> View:
    """Fetch the bounded set of documents the rules read, and build the view from them."""
    return (await load_views(db, [relationship_id], now, session))[relationship_id]


async def load_views(
    db: Database, relationship_ids: Iterable[str], now: datetime, session: Session | None = None
) -> dict[str, View]:
    """`load_view` for many relationships: one read per collection for all of them (through
    the `relationship_id` indexes), but the latest assessments, which are read one
    relationship at a time to keep each to its newest 50."""
    ids = sorted(set(relationship_ids))
    today = now.astimezone(UTC).date() + timedelta(days=1)  # the latest local day anywhere
    since = (today - timedelta(days=HISTORY_DAYS + 1)).isoformat()
    member_since = (today - timedelta(days=MEMBER_HISTORY_DAYS + 1)).isoformat()
    theirs = {"relationship_id": {"$in": ids}}
    # Up to a month ahead too: a day dated a little into the future still counts.
    months = months_between(today - timedelta(days=HISTORY_DAYS + 1), today + timedelta(days=31))
    recent = {**theirs, "at": {"$gte": now - timedelta(days=CONFLICT_DAYS)}}

    async def grouped(collection: str, query: Document) -> dict[str, list[Document]]:
        found: dict[str, list[Document]] = {rid: [] for rid in ids}
        for document in await db[collection].find(query, session=session).to_list():
            found[document["relationship_id"]].append(document)
        return found

    async def by_id(collection: str, ids: list[str]) -> list[Document]:
        return await db[collection].find({"_id": {"$in": ids}}, session=session).to_list()

    memberships = {d["_id"]: list(d["members"]) for d in await by_id(MEMBERSHIPS, ids)}
    relationships = {d["_id"]: d for d in await by_id(RELATIONSHIPS, ids)}
    everyone = sorted({m for members in memberships.values() for m in members})
    zones = {d["_id"]: d["timezone"] for d in await by_id(ZONES, everyone)}
    days: dict[str, list[Document]] = {rid: [] for rid in ids}
    member_days: dict[str, list[Document]] = {rid: [] for rid in ids}
    for month in await by_id(MONTHS, [k for rid in ids for k in keys(rid, months)]):
        rid = month["relationship_id"]
        days[rid] += [d for d in day_documents(month) if d["day"] >= since]
        member_days[rid] += [d for d in member_day_documents(month) if d["day"] >= member_since]
    bids = await grouped(BIDS, {**theirs, "made_at": {"$gte": now - timedelta(days=15)}})
    reports = await grouped(CONFLICT_REPORTS, recent)
    occurrences = await grouped(OCCURRENCES, recent)
    rituals = await grouped(RITUALS, theirs)
    views = {}
    for rid in ids:
        members = memberships.get(rid, [])
        assessments = (
            await db[ASSESSMENTS]
            .find({"relationship_id": rid}, sort=[("at", DESCENDING)], limit=50, session=session)
            .to_list()
        )
        views[rid] = build_view(
            rid, now, members, relationships.get(rid), days[rid], member_days[rid], bids[rid],
            assessments, reports[rid], occurrences[rid], rituals[rid],
            _zones(members, zones, relationships.get(rid)),
        )  # fmt: skip
    return views


async def load_state(db: Database, relationship_id: str, session: Session | None = None) -> State:
    return (await load_states(db, [relationship_id], session))[relationship_id]


async def load_states(
    db: Database, relationship_ids: Iterable[str], session: Session | None = None
) -> dict[str, State]:
    """What the last evaluations left (a fresh State where there was none), in one read."""
    ids = sorted(set(relationship_ids))
    found = await db[STATE].find({"_id": {"$in": ids}}, session=session).to_list()
    documents = {d["_id"]: d for d in found}
    return {rid: _state(documents.get(rid)) for rid in ids}


def _state(document: Document | None) -> State:
    if document is None:
        return State()
    shown = document.get("shown", {})
    texts = {}
    for name in ("starter", "ritual"):
        current = document.get(name)
        if current is not None:  # shown is marked apart, so an evaluation never undoes it
            current = {**current, "shown": shown.get(name) == current["id"]}
        texts[name] = current
    return State(
        flags=document.get("flags", {}),
        health=document.get("health", {}),
        starter=texts["starter"],
        ritual=texts["ritual"],
        starters_used=document.get("starters_used", {}),
        rituals_used=document.get("rituals_used", {}),
    )


async def save_states(db: Database, session: Session, states: dict[str, State]) -> None:
    """The evaluations' own fields, in one bulk write; members' marks (shown, keys) are left
    as they are."""
    if not states:
        return
    await db[STATE].bulk_write(
        [UpdateOne({"_id": rid},
                   {"$set": {"flags": state.flags, "health": state.health,
                             "starter": state.starter, "ritual": state.ritual,
                             "starters_used": state.starters_used,
                             "rituals_used": state.rituals_used}},
                   upsert=True)
         for rid, state in states.items()],
        ordered=False, session=session,
    )  # fmt: skip


async def mark_shown(db: Database, relationship_id: str, state: State) -> None:
    """A starter or ritual a member has been shown may give way to the next one."""
    marks = {
        f"shown.{name}": text["id"]
        for name, text in (("starter", state.starter), ("ritual", state.ritual))
        if text is not None and not text.get("shown")
    }
    if marks:
        await db[STATE].update_one({"_id": relationship_id}, {"$set": marks})


# -- members' answers -------------------------------------------------------------------


async def answered_recommendations(db: Database, relationship_id: str, member: str) -> set[str]:
    found = (
        await db[RECOMMENDATION_ANSWERS]
        .find({"relationship_id": relationship_id, "member_id": member}, {"recommendation_id": 1})
        .to_list()
    )
    return {d["recommendation_id"] for d in found}


async def answer_recommendation(
    db: Database,
    session: Session,
    relationship_id: str,
    member: str,
    recommendation_id: str,
    answer: str,
    at: datetime,
) -> bool:
    """Record a member's answer once; False when they had already answered it."""
    result = await db[RECOMMENDATION_ANSWERS].update_one(
        {"_id": f"{relationship_id}:{member}:{recommendation_id}"},
        {"$setOnInsert": {"relationship_id": relationship_id, "member_id": member,
                          "recommendation_id": recommendation_id, "answer": answer, "at": at}},
        upsert=True, session=session,
    )  # fmt: skip
    return result.upserted_id is not None


def _raising(relationship_id: str, code: str, raised_at: datetime) -> str:
    return f"{relationship_id}:{code}:{raised_at.astimezone(UTC).isoformat()}"


def raising_of(relationship_id: str, flag: dict[str, Any]) -> str:
    """One raising of a flag: answers belong to it, a flag raised again starts afresh."""
    return _raising(relationship_id, flag["code"], _utc(flag["raised_at"]))


async def flag_responses(
    db: Database, relationship_id: str, flags: list[dict[str, Any]]
) -> dict[str, list[Document]]:
    """The answers given to each flag's current raising, by flag code."""
    raisings = {raising_of(relationship_id, f): f["code"] for f in flags}
    found = (
        await db[FLAG_RESPONSES]
        .find({"raising": {"$in": list(raisings)}}, sort=[("at", ASCENDING)])
        .to_list()
    )
    by_code: dict[str, list[Document]] = {}
    for d in found:
        by_code.setdefault(raisings[d["raising"]], []).append(d)
    return by_code


async def respond_to_flag(
    db: Database,
    relationship_id: str,
    flag: dict[str, Any],
    member: str,
    answer: str,
    note: str | None,
    at: datetime,
) -> bool:
    """Record a member's answer to one raising of a flag; False when they already answered."""
    raising = raising_of(relationship_id, flag)
    try:
        await db[FLAG_RESPONSES].insert_one({
            "_id": f"{raising}:{member}", "raising": raising, "relationship_id": relationship_id,
            "code": flag["code"], "member_id": member, "answer": answer, "note": note, "at": at,
        })  # fmt: skip
    except DuplicateKeyError:
        return False
    return True


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def note_key(db: Database, relationship_id: str) -> dict[str, str] | None:
    document = await db[STATE].find_one({"_id": relationship_id}, {"note_key": 1})
    return document.get("note_key") if document else None


async def keys_wrapped_by_others(db: Database, current: str) -> list[Document]:
    return (
        await db[STATE]
        .find({"note_key": {"$exists": True}, "note_key.master": {"$ne": current}}, {"note_key": 1})
        .to_list()
    )


async def replace_note_key(
    db: Database, relationship_id: str, old: dict[str, str], new: dict[str, str]
) -> None:
    await db[STATE].update_one(
        {"_id": relationship_id, "note_key": old}, {"$set": {"note_key": new}}
    )


async def save_note_key(db: Database, relationship_id: str, wrapped: dict[str, str]) -> None:
    """Set once: a concurrent first note keeps whichever key landed first."""
    await db[STATE].update_one(
        {"_id": relationship_id, "note_key": {"$exists": False}},
        {"$set": {"note_key": wrapped}},
    )


async def request_evaluation(
    db: Database, session: Session, relationship_id: str, at: datetime
) -> None:
    """Ask for an evaluation no later than `at` (an earlier request stays)."""
    await db[RELATIONSHIPS].update_one(
        {"_id": relationship_id}, {"$min": {"next_eval_at": at}}, upsert=True, session=session
    )


async def request_evaluations(db: Database, relationship_ids: list[str], at: datetime) -> None:
    """`request_evaluation` outside any transaction, for relationships that exist."""
    await db[RELATIONSHIPS].update_many(
        {"_id": {"$in": relationship_ids}}, {"$min": {"next_eval_at": at}}
    )


async def next_evaluation_at(db: Database) -> datetime | None:
    """When the earliest evaluation asked for falls due (None: none asked for)."""
    due: datetime | None = await next_due(db[RELATIONSHIPS], "next_eval_at")
    return due


async def claim_due(db: Database, now: datetime, next_at: datetime, limit: int) -> list[str]:
    """Claim up to `limit` relationships whose evaluation is due; the claim moves their next
    time on to `next_at` (the time-based re-evaluation), so another replica does not take
    them too, and new events bring it forward again."""
    claimed = await claim_many(db[RELATIONSHIPS], "next_eval_at", now, {"next_eval_at": next_at},
                               limit)  # fmt: skip
    return [str(d["_id"]) for d in claimed]


async def erase_member(
    db: Database, session: Session, member_id: str, relationship_ids: list[str], at: datetime
) -> None:
    """The member's own records go, and so does every relationship-wide aggregate of each
    relationship they were ever in (`relationship_ids`, left ones included): a sum or a
    count they added to could be read back by a partner taking their own share away, and
    some name them (`breach_by__<boundary>:<member>`, `touch_pair__<a>~<b>`, a flag's
    reporters). The other members' own records stay; the relationship's figures start
    again from the next shared entries (docs/privacy.md §4)."""
    # Their own days, in every relationship's months (others' days there stay).
    own = f"members.{member_id}"
    await db[MONTHS].update_many({own: {"$exists": True}}, {"$unset": {own: ""}}, session=session)
    await db[ASSESSMENTS].delete_many({"member_id": member_id}, session=session)
    await db[FLAG_RESPONSES].delete_many({"member_id": member_id}, session=session)
    await db[RECOMMENDATION_ANSWERS].delete_many({"member_id": member_id}, session=session)
    await db[CONFLICT_REPORTS].delete_many({"member_id": member_id}, session=session)
    await db[ZONES].delete_one({"_id": member_id}, session=session)
    # Whose zone a relationship's days follow: someone else's from now on.
    await db[RELATIONSHIPS].update_many(
        {"created_by": member_id}, {"$unset": {"created_by": ""}}, session=session
    )
    joined = f"joined.{member_id}"
    await db[RELATIONSHIPS].update_many(
        {joined: {"$exists": True}}, {"$unset": {joined: ""}}, session=session
    )
    theirs = {"relationship_id": {"$in": relationship_ids}}
    await db[MONTHS].update_many(theirs, {"$unset": {"days": ""}}, session=session)
    for name in (BIDS, OCCURRENCES, RITUALS):
        await db[name].delete_many(theirs, session=session)
    # No upsert: a relationship erased meanwhile is not brought back. The evaluation asked
    # for clears what no longer holds (and says so with flag.cleared and health.updated).
    await db[RELATIONSHIPS].update_many(
        {"_id": {"$in": relationship_ids}},
        {"$unset": {ANSWERS: "", "first_day": "", "last_event_at": "", "hard_moment_at": ""},
         "$min": {"next_eval_at": at}},
        session=session,
    )  # fmt: skip
    for relationship_id in relationship_ids:
        state = await db[STATE].find_one({"_id": relationship_id}, session=session)
        if state is None:
            continue
        flags = state.get("flags", {}).items()
        mine = [key for key, flag in flags if flag.get("member_id") == member_id]
        shared = [key for key, flag in flags if flag.get("member_id") is None]
        # A relationship-wide flag stays up until evaluated (so it is cleared in the open),
        # without the evidence and reporters it rested on.
        update: Document = {"$set": {
            "health": {}, **{f"flags.{key}.evidence": {} for key in shared},
            **{f"flags.{key}.reporters": [] for key in shared},
        }}  # fmt: skip
        if mine:
            update["$unset"] = {f"flags.{key}": "" for key in mine}
        await db[STATE].update_one({"_id": relationship_id}, update, session=session)


async def erase_relationship(db: Database, session: Session, relationship_id: str) -> None:
    for name in (MONTHS, BIDS, ASSESSMENTS, CONFLICT_REPORTS, OCCURRENCES, RITUALS,
                 FLAG_RESPONSES, RECOMMENDATION_ANSWERS):  # fmt: skip
        await db[name].delete_many({"relationship_id": relationship_id}, session=session)
    await db[RELATIONSHIPS].delete_one({"_id": relationship_id}, session=session)
    await db[STATE].delete_one({"_id": relationship_id}, session=session)


async def member_flag_responses(db: Database, member_id: str) -> list[Document]:
    return await db[FLAG_RESPONSES].find({"member_id": member_id}).to_list()


async def member_recommendation_answers(db: Database, member_id: str) -> list[Document]:
    return await db[RECOMMENDATION_ANSWERS].find({"member_id": member_id}, {"_id": 0}).to_list()


async def member_records(db: Database, member_id: str) -> tuple[list[Document], list[Document]]:
    flags: list[Document] = []
    async for state in db[STATE].find({}, {"flags": 1}):
        for flag in state.get("flags", {}).values():
            if flag.get("member_id") == member_id:
                flags.append({**flag, "relationship_id": state["_id"]})
    months = await db[MONTHS].find({f"members.{member_id}": {"$exists": True}}).to_list()
    return flags, [day for month in months for day in member_day_documents(month, member_id)]


async def load_days(
    db: Database, relationship_id: str | None = None, member_id: str | None = None
) -> list[Document]:
    """Day documents as stored in their months: a relationship's (or everyone's), or a
    member's own with `member_id` (for tools and tests that look at what is kept)."""
    query: Document = {} if relationship_id is None else {"relationship_id": relationship_id}
    found = await db[MONTHS].find(query).to_list()
    if member_id is None:
        return [day for month in found for day in day_documents(month)]
    return [day for month in found for day in member_day_documents(month, member_id)]


async def move_days_into_months(
    db: Database, transact: Callable[[Callable[[Session], Awaitable[None]]], Awaitable[None]]
) -> int:
    """Fold day documents of the layout before months (`days`, `member_days`) into their
    months, each in a transaction with its removal so it counts once whatever stops the
    move; run at start-up, before any event is consumed. The number moved."""
    moved = 0
    present = set(await db.list_collection_names())
    for old in (DAYS, MEMBER_DAYS):
        if old not in present:
            continue
        while batch := await db[old].find({}).limit(500).to_list():
            for document in batch:
                change = old_day_as_contribution(old, document)

                async def move(session: Session, change: Contribution = change,
                               key: Any = document["_id"], old: str = old) -> None:  # fmt: skip
                    if (await db[old].delete_one({"_id": key}, session=session)).deleted_count:
                        await apply(db, session, [change])

                await transact(move)
            moved += len(batch)
        await db[old].drop()
    return moved
