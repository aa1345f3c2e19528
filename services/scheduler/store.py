"""The only module of the scheduler that touches MongoDB."""

from __future__ import annotations

from shared.mongo import Database, Document, Session

RITUALS = "rituals"
MEMBERS = "member_settings"


async def ensure_indexes(db: Database) -> None:
    await db[RITUALS].create_index("relationship_id")


async def save_ritual(db: Database, session: Session, ritual: Document) -> None:
    await db[RITUALS].replace_one({"_id": ritual["_id"]}, ritual, upsert=True, session=session)


async def rituals_of(db: Database, relationship_id: str) -> list[Document]:
    return await db[RITUALS].find({"relationship_id": relationship_id}).to_list()


async def save_member_settings(db: Database, session: Session, settings: Document) -> None:
    await db[MEMBERS].replace_one({"_id": settings["_id"]}, settings, upsert=True, session=session)


async def member_settings(db: Database, member_id: str) -> Document | None:
    return await db[MEMBERS].find_one({"_id": member_id})
