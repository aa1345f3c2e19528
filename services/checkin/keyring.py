"""Data keys per (relationship, member), stored wrapped by the master key.

Destroying a member's keys makes every copy of their text unreadable; rewrapping
moves keys to the newest master key so an old one can be retired (rotation).

The key a member writes with is kept in memory for a short while (CACHE_SECONDS), so a
command does not read it every time. Only their own writes use it, and an erased member
can no longer act (the gateway refuses them); erasure in this process drops it at once.
"""

from __future__ import annotations

import time

from services.checkin import store
from shared import crypto
from shared.mongo import Database, Session

CACHE_SECONDS = 60.0


class Keyring:
    def __init__(self, db: Database, master: crypto.MasterKeys) -> None:
        self.db = db
        self.master = master
        self._writing: dict[str, tuple[bytes, float]] = {}  # name -> (key, monotonic expiry)

    async def ensure_indexes(self) -> None:
        await store.ensure_key_indexes(self.db)

    @staticmethod
    def name(relationship_id: str, member_id: str) -> str:
        return f"{relationship_id}:{member_id}"

    async def key_for(self, relationship_id: str, member_id: str) -> bytes:
        """The member's data key for the relationship, created on first use."""
        name = self.name(relationship_id, member_id)
        cached = self._writing.get(name)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        found = await store.data_key(self.db, name)
        if found is None:
            # A concurrent command may create it first: then that one is used.
            wrapped = self.master.wrap(crypto.new_data_key(), name)
            found = await store.add_data_key(self.db, name, relationship_id, member_id, wrapped)
        key = self.master.unwrap(found["wrapped"], name)
        self._writing[name] = (key, time.monotonic() + CACHE_SECONDS)
        return key

    async def existing_key(self, relationship_id: str, member_id: str) -> bytes | None:
        """The key if it still exists (None once destroyed by erasure)."""
        name = self.name(relationship_id, member_id)
        found = await store.data_key(self.db, name)
        return None if found is None else self.master.unwrap(found["wrapped"], name)

    async def destroy_member(self, session: Session, member_id: str) -> None:
        self._writing = {n: k for n, k in self._writing.items() if not n.endswith(f":{member_id}")}
        await store.delete_member_keys(self.db, session, member_id)

    async def destroy_relationship(self, session: Session, relationship_id: str) -> None:
        self._writing = {
            n: k for n, k in self._writing.items() if not n.startswith(f"{relationship_id}:")
        }
        await store.delete_relationship_keys(self.db, session, relationship_id)

    async def rewrap(self) -> int:
        """Wrap every key still under an older master key with the current one."""
        moved = 0
        async for found in store.data_keys_not_under(self.db, self.master.current):
            key = self.master.unwrap(found["wrapped"], found["_id"])
            rewrapped = self.master.wrap(key, found["_id"])
            moved += await store.rewrap_data_key(self.db, found, rewrapped)
        return moved
