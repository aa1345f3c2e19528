"""The only module of the gateway that touches MongoDB: accounts, tokens, relationships,
invites, idempotency records and the ops event counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from shared.envelope import Envelope
from shared.mongo import Database, Document, Session, next_due

MEMBERS = "members"
TOKENS = "tokens"
RELATIONSHIPS = "relationships"
INVITES = "invites"
IDEMPOTENCY = "idempotency"
EVENT_COUNTS = "event_counts"
ERASURES = "erasures"
WEBHOOKS = "webhooks"
DELIVERIES = "deliveries"
ERASURE_CONFIRMERS = ("checkin", "insights", "scheduler")


async def ensure_indexes(db: Database, idempotency_ttl: timedelta) -> None:
    await db[MEMBERS].create_index("email", unique=True)
    await db[TOKENS].create_index("expires_at", expireAfterSeconds=0)
    await db[TOKENS].create_index("member_id")
    await db[RELATIONSHIPS].create_index("members")
    await db[INVITES].create_index("expires_at", expireAfterSeconds=0)
    await db[EVENT_COUNTS].create_index("minute", expireAfterSeconds=7 * 24 * 3600)
    await db[IDEMPOTENCY].create_index(
        "created_at", expireAfterSeconds=int(idempotency_ttl.total_seconds())
    )
    await db[IDEMPOTENCY].create_index("scope")


# -- members and tokens ----------------------------------------------------------------


class EmailTaken(Exception):
    pass


async def insert_member(db: Database, session: Session, member: Document) -> None:
    try:
        await db[MEMBERS].insert_one(member, session=session)
    except DuplicateKeyError as exc:
        raise EmailTaken from exc


async def member_by_email(db: Database, email: str) -> Document | None:
    return await db[MEMBERS].find_one({"email": email})


async def member_by_id(db: Database, member_id: str) -> Document | None:
    return await db[MEMBERS].find_one({"_id": member_id})


async def members_by_id(db: Database, ids: list[str]) -> dict[str, Document]:
    found = await db[MEMBERS].find({"_id": {"$in": ids}}).to_list()
    return {m["_id"]: m for m in found}


async def save_member_profile(
    db: Database, session: Session, member_id: str, changes: Document
) -> Document | None:
    return await db[MEMBERS].find_one_and_update(
        {"_id": member_id},
        {"$set": changes},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def insert_token(
    db: Database, digest: str, member_id: str, now: datetime, ttl: timedelta
) -> None:
    await db[TOKENS].insert_one(
        {"_id": digest, "member_id": member_id, "created_at": now, "expires_at": now + ttl}
    )


async def member_for_token(db: Database, digest: str, now: datetime) -> str | None:
    token = await db[TOKENS].find_one({"_id": digest, "expires_at": {"$gt": now}})
    return token["member_id"] if token else None


async def token_holder(db: Database, digest: str, now: datetime) -> tuple[str, datetime] | None:
    """The member a live token belongs to, and when it expires (so a cache never outlives it)."""
    token = await db[TOKENS].find_one({"_id": digest, "expires_at": {"$gt": now}})
    return (token["member_id"], token["expires_at"]) if token else None


async def revoke_token(db: Database, digest: str) -> None:
    await db[TOKENS].delete_one({"_id": digest})


# -- relationships and invites ---------------------------------------------------------


async def relationship(db: Database, relationship_id: str) -> Document | None:
    return await db[RELATIONSHIPS].find_one({"_id": relationship_id})


async def relationships_of(db: Database, member_id: str) -> list[Document]:
    return (
        await db[RELATIONSHIPS]
        .find({"members": member_id}, sort=[("created_at", ASCENDING)])
        .to_list()
    )


async def insert_relationship(db: Database, session: Session, document: Document) -> None:
    await db[RELATIONSHIPS].insert_one(document, session=session)


async def change_members(
    db: Database, session: Session, relationship_id: str, version: int, update: Document
) -> Document | None:
    """Apply a membership change guarded by the version that was read; None if it moved."""
    return await db[RELATIONSHIPS].find_one_and_update(
        {"_id": relationship_id, "membership_version": version},
        {**update, "$inc": {"membership_version": 1}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def delete_relationship(db: Database, session: Session, relationship_id: str) -> None:
    await db[RELATIONSHIPS].delete_one({"_id": relationship_id}, session=session)
    await db[INVITES].delete_many({"relationship_id": relationship_id}, session=session)
    hooks = (
        await db[WEBHOOKS]
        .find({"relationship_id": relationship_id}, {"_id": 1}, session=session)
        .to_list()
    )
    if hooks:
        ids = [h["_id"] for h in hooks]
        await db[DELIVERIES].delete_many({"webhook_id": {"$in": ids}}, session=session)
        await db[WEBHOOKS].delete_many({"_id": {"$in": ids}}, session=session)


async def insert_invite(db: Database, document: Document) -> None:
    await db[INVITES].insert_one(document)


async def invite(db: Database, digest: str) -> Document | None:
    return await db[INVITES].find_one({"_id": digest})


async def pending_invites(db: Database, relationship_id: str, now: datetime) -> list[Document]:
    return (
        await db[INVITES]
        .find(
            {"relationship_id": relationship_id, "used_by": None, "expires_at": {"$gt": now},
             "invite_id": {"$exists": True}},
            sort=[("expires_at", ASCENDING)],
        )
        .to_list()
    )  # fmt: skip


async def revoke_invite(db: Database, relationship_id: str, invite_id: str) -> bool:
    revoked = await db[INVITES].delete_one(
        {"relationship_id": relationship_id, "invite_id": invite_id, "used_by": None}
    )
    return revoked.deleted_count == 1


async def forget_departed_member(
    db: Database, session: Session, relationship_id: str, member_id: str
) -> None:
    """A member left: their invites are revoked, their webhooks and deliveries deleted."""
    await db[INVITES].delete_many(
        {"relationship_id": relationship_id, "created_by": member_id}, session=session
    )
    hooks = await db[WEBHOOKS].find(
        {"relationship_id": relationship_id, "created_by": member_id}, {"_id": 1},
        session=session,
    ).to_list()  # fmt: skip
    if hooks:
        ids = [h["_id"] for h in hooks]
        await db[DELIVERIES].delete_many({"webhook_id": {"$in": ids}}, session=session)
        await db[WEBHOOKS].delete_many({"_id": {"$in": ids}}, session=session)


async def note_departure(
    db: Database, session: Session, member_id: str, relationship_id: str
) -> None:
    """Keep which relationships a member left: their erasure must reach those too (what
    they published there stays on the streams until then)."""
    await db[MEMBERS].update_one(
        {"_id": member_id}, {"$addToSet": {"left_relationships": relationship_id}},
        session=session,
    )  # fmt: skip


async def claim_invite(
    db: Database, session: Session, digest: str, member_id: str, now: datetime
) -> Document | None:
    """Use an invite once: only an unused, unexpired code is claimed."""
    return await db[INVITES].find_one_and_update(
        {"_id": digest, "used_by": None, "expires_at": {"$gt": now}},
        {"$set": {"used_by": member_id, "used_at": now}},
        session=session,
    )


# -- idempotency -----------------------------------------------------------------------


async def claim_idempotency_key(
    db: Database, key: str, fingerprint: str, now: datetime, scope: str | None = None
) -> Document | None:
    """Claim a key for a new request; returns the existing record when it was seen before.

    `scope` is the caller's member id: what an erasure finds the member's records by."""
    for _ in range(3):
        try:
            await db[IDEMPOTENCY].insert_one(
                {"_id": key, "fingerprint": fingerprint, "state": "pending", "created_at": now,
                 "scope": scope}
            )  # fmt: skip
        except DuplicateKeyError:
            existing = await db[IDEMPOTENCY].find_one({"_id": key})
            if existing is not None:
                return existing
            continue  # a failed first attempt released the key just now: claim it again
        return None
    # Still racing with another attempt of the same request: let the client retry shortly.
    return {"state": "pending", "fingerprint": fingerprint, "created_at": now}


async def complete_idempotency_key(db: Database, key: str, response: dict[str, Any]) -> None:
    await db[IDEMPOTENCY].update_one(
        {"_id": key}, {"$set": {"state": "done", "response": response}}
    )


async def release_idempotency_key(db: Database, key: str) -> None:
    await db[IDEMPOTENCY].delete_one({"_id": key, "state": "pending"})


# -- ops counts ------------------------------------------------------------------------


async def count_event(db: Database, envelope: Envelope, session: Session) -> None:
    """Per-minute counts by type (by when the event was published): no ids, no content."""
    minute = envelope.time.replace(second=0, microsecond=0)
    await db[EVENT_COUNTS].update_one(
        {"_id": f"{minute:%Y%m%dT%H%M}:{envelope.source}:{envelope.type}"},
        {
            "$inc": {"count": 1},
            "$setOnInsert": {"minute": minute, "source": envelope.source, "type": envelope.type},
        },
        upsert=True,
        session=session,
    )


async def count_events(db: Database, envelopes: list[Envelope], session: Session) -> None:
    """`count_event` for a batch: one upsert per minute, source and type, in one bulk write."""
    buckets: dict[str, tuple[int, Document]] = {}
    for envelope in envelopes:
        minute = envelope.time.replace(second=0, microsecond=0)
        key = f"{minute:%Y%m%dT%H%M}:{envelope.source}:{envelope.type}"
        count, fields = buckets.get(key, (0, {"minute": minute, "source": envelope.source,
                                                "type": envelope.type}))  # fmt: skip
        buckets[key] = (count + 1, fields)
    await db[EVENT_COUNTS].bulk_write(
        [UpdateOne({"_id": key}, {"$inc": {"count": count}, "$setOnInsert": fields}, upsert=True)
         for key, (count, fields) in buckets.items()],
        ordered=False,
        session=session,
    )  # fmt: skip


async def counts_since(db: Database, since: datetime) -> list[Document]:
    return await db[EVENT_COUNTS].find({"minute": {"$gte": since}}, {"_id": 0}).to_list()


async def event_counts(db: Database) -> dict[str, int]:
    totals: dict[str, int] = {}
    async for document in db[EVENT_COUNTS].find({}):
        totals[document["type"]] = totals.get(document["type"], 0) + int(document["count"])
    return totals


# -- erasure -----------------------------------------------------------------------------


async def delete_member(db: Database, session: Session, member_id: str) -> None:
    """The account, its tokens and invites, its cached responses, and every webhook
    delivery of an event about the member (deliveries to the others' endpoints too)."""
    tokens = await db[TOKENS].find({"member_id": member_id}, {"_id": 1},
                                   session=session).to_list()  # fmt: skip
    # Records are scoped by the member; those written before were scoped by a token digest.
    scopes = [member_id, *(t["_id"] for t in tokens)]
    await db[IDEMPOTENCY].delete_many({"scope": {"$in": scopes}}, session=session)
    await db[MEMBERS].delete_one({"_id": member_id}, session=session)
    await db[TOKENS].delete_many({"member_id": member_id}, session=session)
    await db[INVITES].delete_many(
        {"$or": [{"created_by": member_id}, {"used_by": member_id}]}, session=session
    )
    await db[DELIVERIES].delete_many({"about": member_id}, session=session)
    await db[RELATIONSHIPS].update_many(
        {"created_by": member_id}, {"$unset": {"created_by": ""}}, session=session
    )


async def insert_erasure(db: Database, session: Session, erasure_id: str, at: datetime) -> None:
    # Only the erasure's own id and progress: nothing that names the member.
    await db[ERASURES].insert_one({"_id": erasure_id, "started_at": at, "confirmed": []},
                                  session=session)  # fmt: skip


async def confirm_erasure(db: Database, session: Session, erasure_id: str, service: str) -> None:
    await db[ERASURES].update_one(
        {"_id": erasure_id}, {"$addToSet": {"confirmed": service}}, session=session
    )


async def erasure(db: Database, erasure_id: str) -> Document | None:
    return await db[ERASURES].find_one({"_id": erasure_id})


# -- webhooks ----------------------------------------------------------------------------


async def ensure_webhook_indexes(db: Database, delivery_ttl: timedelta) -> None:
    await db[WEBHOOKS].create_index("relationship_id")
    await db[DELIVERIES].create_index("about")
    # A delivery record holds a whole event: it goes after a while, delivered or not.
    await db[DELIVERIES].create_index(
        "created_at", expireAfterSeconds=int(delivery_ttl.total_seconds())
    )
    await db[DELIVERIES].create_index("next_attempt_at")
    await db[DELIVERIES].create_index([("webhook_id", ASCENDING), ("order", ASCENDING)])
    await db[DELIVERIES].create_index(
        [("webhook_id", ASCENDING), ("status", ASCENDING), ("order", ASCENDING)]
    )


async def insert_webhook(db: Database, webhook: Document) -> None:
    await db[WEBHOOKS].insert_one(webhook)


async def count_webhooks(db: Database, relationship_id: str) -> int:
    return await db[WEBHOOKS].count_documents({"relationship_id": relationship_id})


async def webhooks_of(db: Database, relationship_id: str) -> list[Document]:
    return await db[WEBHOOKS].find({"relationship_id": relationship_id}).to_list()


async def webhooks_of_many(db: Database, relationship_ids: list[str]) -> list[Document]:
    return await db[WEBHOOKS].find({"relationship_id": {"$in": relationship_ids}}).to_list()


async def webhook(db: Database, relationship_id: str, webhook_id: str) -> Document | None:
    return await db[WEBHOOKS].find_one({"_id": webhook_id, "relationship_id": relationship_id})


async def webhook_by_id(db: Database, webhook_id: str) -> Document | None:
    """Any relationship's endpoint: for the dispatcher, which sends for all of them."""
    return await db[WEBHOOKS].find_one({"_id": webhook_id})


async def delete_webhook(db: Database, relationship_id: str, webhook_id: str) -> bool:
    deleted = await db[WEBHOOKS].delete_one({"_id": webhook_id, "relationship_id": relationship_id})
    await db[DELIVERIES].delete_many({"webhook_id": webhook_id})
    return deleted.deleted_count == 1


async def set_webhook_state(db: Database, webhook_id: str, changes: Document) -> None:
    await db[WEBHOOKS].update_one({"_id": webhook_id}, {"$set": changes})


async def add_deliveries_at_once(db: Database, deliveries: list[Document]) -> None:
    """Keyed by (webhook, event): a redelivered event adds nothing, so no transaction."""
    await db[DELIVERIES].bulk_write(
        [UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True) for d in deliveries],
        ordered=True,
    )


async def deliveries_of(db: Database, webhook_id: str, limit: int) -> list[Document]:
    return (
        await db[DELIVERIES]
        .find({"webhook_id": webhook_id}, sort=[("order", -1)], limit=limit)
        .to_list()
    )


async def delivery(db: Database, webhook_id: str, delivery_id: str) -> Document | None:
    return await db[DELIVERIES].find_one({"_id": delivery_id, "webhook_id": webhook_id})


async def endpoints_with_due_deliveries(db: Database, now: datetime) -> list[str]:
    return [
        str(w)
        for w in await db[DELIVERIES].distinct("webhook_id", {"next_attempt_at": {"$lte": now}})
    ]


async def next_delivery_due(db: Database) -> datetime | None:
    """When the earliest pending delivery (or retry) falls due; None when nothing is pending."""
    due: datetime | None = await next_due(db[DELIVERIES], "next_attempt_at")
    return due


async def oldest_pending_delivery(db: Database, webhook_id: str) -> Document | None:
    return await db[DELIVERIES].find_one(
        {"webhook_id": webhook_id, "status": "pending"}, sort=[("order", ASCENDING)]
    )


async def postpone_deliveries(
    db: Database, webhook_id: str, now: datetime, until: datetime
) -> None:
    """Deliveries of this endpoint due by now wait until `until` (behind an older one)."""
    await db[DELIVERIES].update_many(
        {"webhook_id": webhook_id, "status": "pending", "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": until}},
    )


async def claim_delivery(db: Database, delivery: Document, changes: Document) -> bool:
    """Take a delivery as read, for this replica only (conditional on its due time)."""
    taken = await db[DELIVERIES].update_one(
        {"_id": delivery["_id"], "next_attempt_at": delivery["next_attempt_at"]},
        {"$set": changes},
    )
    return taken.modified_count == 1


async def update_delivery(
    db: Database, delivery_id: str, changes: Document, attempt: Document | None
) -> None:
    update: dict[str, Any] = {"$set": changes}
    if attempt is not None:
        update["$push"] = {"attempts": attempt}
    await db[DELIVERIES].update_one({"_id": delivery_id}, update)


async def delivery_stats(db: Database, since: datetime) -> Document:
    done = (
        await db[DELIVERIES]
        .find({"last_attempt_at": {"$gte": since}}, {"status": 1, "latency_ms": 1})
        .to_list()
    )
    delivered = [d for d in done if d.get("status") == "delivered"]
    latencies = sorted(d.get("latency_ms", 0) for d in delivered)
    return {
        "attempted": len(done),
        "delivered": len(delivered),
        "success_rate": round(len(delivered) / len(done), 3) if done else None,
        "median_latency_ms": latencies[len(latencies) // 2] if latencies else None,
        "disabled_endpoints": await db[WEBHOOKS].count_documents({"disabled": True}),
        "pending": await db[DELIVERIES].count_documents({"status": "pending"}),
    }
