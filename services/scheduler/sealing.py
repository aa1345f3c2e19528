"""Sealing a date's plan at rest: a data key per (relationship, member), wrapped by the
master key, so erasing the member or the relationship shreds the text (crypto-shredding)."""

from __future__ import annotations

from services.scheduler import store
from shared import crypto
from shared.mongo import Database


class Sealer:
    def __init__(self, db: Database, master: crypto.MasterKeys) -> None:
        self.db = db
        self.master = master

    @staticmethod
    def _where(relationship_id: str, member_id: str, entry_id: str) -> str:
        return f"{relationship_id}|{member_id}|{entry_id}|plan"

    async def seal(self, relationship_id: str, member_id: str, entry_id: str, text: str) -> str:
        key = await self._key(relationship_id, member_id, create=True)
        assert key is not None
        return crypto.encrypt_text(key, text, self._where(relationship_id, member_id, entry_id))

    async def open(
        self, relationship_id: str, member_id: str, entry_id: str, sealed: str
    ) -> str | None:
        """The text, or None once its author's key is gone."""
        key = await self._key(relationship_id, member_id, create=False)
        if key is None:
            return None
        try:
            where = self._where(relationship_id, member_id, entry_id)
            return crypto.decrypt_text(key, sealed, where)
        except crypto.KeyUnavailable:
            return None

    async def _key(self, relationship_id: str, member_id: str, create: bool) -> bytes | None:
        name = f"{relationship_id}:{member_id}"
        wrapped = await store.data_key(self.db, name)
        if wrapped is None:
            if not create:
                return None
            fresh = self.master.wrap(crypto.new_data_key(), name)
            wrapped = await store.put_data_key(self.db, name, relationship_id, member_id, fresh)
        return self.master.unwrap(wrapped, name)
