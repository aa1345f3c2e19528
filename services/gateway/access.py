"""Who a token belongs to and who a relationship's members are, remembered for a few seconds.

Nearly every request names a token and most name a relationship: reading both from MongoDB
each time was two of the database operations of every check-in. Each gateway replica keeps
them briefly (`access_cache_seconds`) in bounded memory (`access_cache_entries`).

Privacy comes first: a revoked token or a changed membership stops working at once on every
replica, not when its entry expires. Whoever changes them (log-out, joining, leaving,
erasure) calls `forget` once the change has committed: this replica forgets at once, and
every replica is told on a core NATS subject (`access_subject`) before the change is
answered. A read that was under way while something was forgotten is not remembered (it
may have read the old state), and a replica whose NATS connection dropped - it may have
missed a message - forgets everything and remembers nothing until it is back.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from cachetools import TTLCache
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel, ValidationError

from shared.logging import get_logger
from shared.mongo import Document
from shared.runtime import ServiceRuntime
from shared.subjects import access_subject

log = get_logger(__name__)

# How long `forget` waits for the bus to take its message before answering anyway.
BROADCAST_TIMEOUT_SECONDS = 2

TokenHolder = tuple[str, datetime]  # the member, and when the token expires


class Forgotten(BaseModel):
    """What every replica must stop remembering (token digests and ids only)."""

    tokens: list[str] = []
    members: list[str] = []  # every token of these members, and their relationships
    relationships: list[str] = []


class AccessCache:
    """Token digest → member and relationship id → document, per replica and briefly."""

    def __init__(
        self, seconds: float, entries: int, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._tokens: TTLCache[str, TokenHolder] = TTLCache(entries, seconds, timer)
        self._relationships: TTLCache[str, Document] = TTLCache(entries, seconds, timer)
        # Moves on every forgetting: a read begun before it is not remembered.
        self._generation = 0
        # The connection's (connected, reconnects); None until something listens.
        self._link: Callable[[], tuple[bool, int]] | None = None
        self._link_seen: tuple[bool, int] | None = None

    def listening(self, link: Callable[[], tuple[bool, int]]) -> None:
        """From now on the replica hears what others forget; `link` tells whether it still does."""
        self._link = link
        self._link_seen = link()

    def _trusted(self) -> bool:
        """Whether remembering is safe: only while connected without a break since."""
        if self._link is None or self.seconds <= 0:
            return False
        state = self._link()
        if state != self._link_seen:
            self._link_seen = state
            self._forget_everything()
        return state[0]

    async def token_holder(
        self, digest: str, now: datetime, read: Callable[[], Awaitable[TokenHolder | None]]
    ) -> str | None:
        """The member a live token belongs to, from memory or from `read`."""
        if self._trusted() and (held := self._tokens.get(digest)) is not None and held[1] > now:
            return held[0]
        generation = self._generation
        found = await read()
        if found is None:
            return None
        if self._trusted() and generation == self._generation:
            self._tokens[digest] = found
        return found[0]

    async def relationship(
        self, relationship_id: str, read: Callable[[], Awaitable[Document | None]]
    ) -> Document | None:
        """The relationship's document, from memory or from `read` (a missing one is not
        remembered)."""
        if self._trusted() and (known := self._relationships.get(relationship_id)) is not None:
            return known
        generation = self._generation
        found = await read()
        if found is not None and self._trusted() and generation == self._generation:
            self._relationships[relationship_id] = found
        return found

    def forget(self, what: Forgotten) -> None:
        self._generation += 1
        for digest in what.tokens:
            self._tokens.pop(digest, None)
        for rid in what.relationships:
            self._relationships.pop(rid, None)
        if what.members:
            members = set(what.members)
            for digest, (holder, _expires) in list(self._tokens.items()):
                if holder in members:
                    self._tokens.pop(digest, None)
            for rid, document in list(self._relationships.items()):
                if members.intersection(document.get("members", ())):
                    self._relationships.pop(rid, None)

    def _forget_everything(self) -> None:
        self._generation += 1
        self._tokens.clear()
        self._relationships.clear()

    def __len__(self) -> int:
        return len(self._tokens) + len(self._relationships)


class Access:
    """The replica's `AccessCache`, told by and telling the other replicas what to forget."""

    def __init__(self, seconds: float, entries: int) -> None:
        self.cache = AccessCache(seconds, entries)
        self._connection: Client | None = None
        self._subject = ""

    def wire(self, runtime: ServiceRuntime) -> None:
        async def listen(rt: ServiceRuntime) -> None:
            connection: Client = rt.broker.connection
            self._connection = connection
            self._subject = access_subject(rt.settings.namespace)
            await connection.subscribe(self._subject, cb=self._heard)
            await connection.flush()  # subscribed on the server before anything is remembered
            self.cache.listening(lambda: (connection.is_connected, connection.stats["reconnects"]))

        runtime.on_startup(listen)

    async def _heard(self, msg: Msg) -> None:
        try:
            what = Forgotten.model_validate_json(msg.data)
        except ValidationError:
            log.warning("access_message_unreadable")
            return
        self.cache.forget(what)

    async def forget(
        self,
        *,
        tokens: Iterable[str] = (),
        members: Iterable[str] = (),
        relationships: Iterable[str] = (),
    ) -> None:
        """Call once a revocation or membership change has committed: forgotten here at once,
        and on every other replica as soon as the bus delivers (waited for, briefly)."""
        what = Forgotten(tokens=list(tokens), members=list(members),
                         relationships=list(relationships))  # fmt: skip
        self.cache.forget(what)
        if self._connection is None:
            return  # not started: nothing is remembered anywhere yet
        try:
            await self._connection.publish(self._subject, what.model_dump_json().encode())
            await self._connection.flush(timeout=BROADCAST_TIMEOUT_SECONDS)
        except Exception as exc:
            # The change itself is done. The client buffers the message while reconnecting,
            # and a replica that lost its own connection distrusts its memory anyway.
            log.warning("access_broadcast_failed", error=repr(exc))
