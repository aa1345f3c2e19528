"""Every command of the checkin service runs the same way:

authorize → repeat? → decide → write one document → reply.

- authorize: the actor is a member of the relationship (the gateway's view, or ours if
  newer; the read model is only read when the request's view is missing or older than
  the newest this process has seen), and their data key is at hand;
- repeat?: a command id already done replays its first result (a command on an existing
  entry finds it in the loaded entry; a new entry's id is derived from the command id, so
  its repeat collides on insert and is looked up then);
- decide: `domain` says, purely, what the command writes, publishes and replies;
- write: one insert, or one update guarded by the entry's version, with the command's
  record and its events in the same document (no transaction); a guarded entry that
  changed meanwhile makes the command decide again;
- reply: the result with its author's text opened.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from services.checkin import domain, sealing, store
from services.checkin.keyring import Keyring
from services.checkin.mapping import Context
from shared import telemetry
from shared.clock import Clock
from shared.contract import operation_for
from shared.grouped_inserts import GroupedInserts
from shared.logging import get_logger
from shared.membership import SeenMemberships, authorize
from shared.messages.checkin_rpc import Entry
from shared.mongo import Document
from shared.outbox import embed, push
from shared.problems import AttuneError, Conflict, InvalidInput, NotFound
from shared.rpc import Request, mark_replayed
from shared.runtime import ServiceRuntime

P = TypeVar("P", bound=BaseModel)
log = get_logger(__name__)

DECIDE_ATTEMPTS = 5


def fingerprint(key: bytes, name: str, relationship_id: str, payload: BaseModel) -> str:
    """What makes a repeat the same request: the command, where, and what it says. Keyed by
    the author's data key: guessing a small payload (a mood) from it is impossible, and
    erasure, which destroys the key, leaves nothing to match against."""
    text = f"{name}:{relationship_id}:{payload.model_dump_json()}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class Pipeline:
    def __init__(
        self, runtime: ServiceRuntime, keyring: Callable[[], Keyring], clock: Clock
    ) -> None:
        self.runtime = runtime
        self._keyring = keyring
        self._clock = clock
        # Fed by the membership projection too (app.py): see shared.membership.
        self.memberships = SeenMemberships()
        self.inserts = GroupedInserts(lambda: runtime.db[store.ENTRIES])

    def now(self) -> datetime:
        return domain.to_millis(self._clock.now())

    async def context(self, request: Request) -> Context:
        rid = request.context.relationship_id
        if not rid:
            raise InvalidInput("a relationship is required", field="relationship_id")
        members = await authorize(
            self.runtime.db,
            rid,
            request.context.actor_id,
            request.context.members,
            request.context.membership_version,
            self.memberships,
        )
        actor = request.context.actor_id
        assert actor is not None  # authorize refused anyone else
        key = await self._keyring().key_for(rid, actor)
        return Context(
            actor, rid, members, self.now(), request.command_id,
            request.context.correlation_id, key,
        )  # fmt: skip

    async def load(self, ctx: Context, kind: str, entry_id: str) -> Document:
        document = await store.get_entry(
            self.runtime.db, ctx.relationship_id, entry_id, kind, ctx.actor
        )
        if document is None:
            raise NotFound(f"{kind} not found", code=f"{kind}_not_found")
        return document

    # -- the two shapes of command -------------------------------------------------------
    async def create(
        self, payload: P, request: Request, decide: Callable[[Context], domain.New]
    ) -> Entry:
        """A command that records a new entry."""

        return await self._run(payload, request, lambda ctx, _none: decide(ctx), None)

    async def act_on(
        self,
        payload: P,
        request: Request,
        target: tuple[str, str],
        decide: Callable[[Context, Document], domain.Decision],
    ) -> Entry:
        """A command that needs an existing entry (`target`: its kind and id)."""

        def decided(ctx: Context, loaded: Document | None) -> domain.Decision:
            assert loaded is not None  # loaded before every decision on a target
            return decide(ctx, loaded)

        return await self._run(payload, request, decided, target)

    # -- the one pipeline ----------------------------------------------------------------
    async def _run(
        self,
        payload: P,
        request: Request,
        decide: Callable[[Context, Document | None], domain.Decision],
        target: tuple[str, str] | None,
    ) -> Entry:
        name = operation_for(type(payload)).name  # the command's name in the catalog
        ctx = await self.context(request)
        digest = fingerprint(ctx.key, name, ctx.relationship_id, payload)
        answer_lost = False
        for _ in range(DECIDE_ATTEMPTS):
            loaded = None
            if target is not None:
                loaded = await self.load(ctx, *target)
                if (done := store.command_in(loaded, ctx.command_id)) is not None:
                    return await self._replay(ctx, done, digest)
            try:
                decision = decide(ctx, loaded)
            except AttuneError:
                # A repeat of a command that was accepted may no longer pass (the bid is
                # answered now, the boundary retired): it still gets its first answer.
                if (done := await store.find_command(self.runtime.db, ctx.command_id)) is None:
                    raise
                return await self._replay(ctx, done, digest)
            command = {
                "id": ctx.command_id,
                "name": name,
                "actor": ctx.actor,
                "fingerprint": digest,
                "result": decision.result.model_dump(mode="json"),
                "at": ctx.now,
            }
            try:
                await self._write(decision, command)
            except store.ConcurrentChange:
                ctx.now = self.now()
                continue
            except ServerSelectionTimeoutError:
                raise  # no server to write to: nothing went out, the caller hears "unavailable"
            except AutoReconnect:
                # The connection broke before the answer came (the client makes no retryable
                # writes: shared/mongo.py). Deciding again, once, is safe: had the write landed,
                # the new entry's id collides and the command replays, or the changed entry
                # holds the command and replays it. A second break means the database is away.
                if answer_lost:
                    raise
                answer_lost = True
                log.info("write_answer_lost", command_id=ctx.command_id)
                # Had it landed, its events wait: the relay reads them (nobody handed them).
                self.runtime.outbox.committed(store.ENTRIES)
                ctx.now = self.now()
                continue
            except store.AlreadyThere:
                done = await store.find_command(self.runtime.db, ctx.command_id)
                if done is None:
                    assert isinstance(decision, domain.New)
                    raise decision.on_duplicate or Conflict(
                        "this has already been recorded", code="already_recorded"
                    ) from None
                return await self._replay(ctx, done, digest, decision)
            return await self.open(decision.result, ctx)
        raise Conflict("too many concurrent changes; try again", code="concurrent_change")

    async def _write(self, decision: domain.Decision, command: Document) -> None:
        with telemetry.tracer(self.runtime.name).start_as_current_span("checkin write"):
            await self._write_one(decision, command)

    async def _write_one(self, decision: domain.Decision, command: Document) -> None:
        """The command's one document: inserted, or changed under its version guard."""
        db, namespace = self.runtime.db, self.runtime.settings.namespace
        if isinstance(decision, domain.New):
            document = embed(
                namespace, {**decision.document, "commands": [command]}, decision.events
            )
            await store.insert_entry(self.inserts, document)
            if decision.events:  # the relay publishes them as written, without a read
                self.runtime.outbox.committed(store.ENTRIES, [document])
            if decision.follow_up is not None:
                await store.set_state(db, *decision.follow_up)
        else:
            await store.change_entry(
                db, decision.entry_id, decision.version, decision.set_fields, command,
                push(namespace, decision.events),
            )  # fmt: skip
            if decision.events:  # the entry may hold earlier ones still: the relay reads it
                self.runtime.outbox.committed(store.ENTRIES)

    async def _replay(
        self,
        ctx: Context,
        done: Document,
        digest: str,
        decision: domain.Decision | None = None,
    ) -> Entry:
        if done["fingerprint"] != digest or done["actor"] != ctx.actor:
            raise Conflict(
                "this command id was already used for a different request",
                code="idempotency_key_reused",
            )
        if isinstance(decision, domain.New) and decision.follow_up is not None:
            # The first attempt may have stopped between its insert and the follow-up.
            await store.set_state(self.runtime.db, *decision.follow_up)
        mark_replayed()
        return await self.open(Entry.model_validate(done["result"]), ctx)

    # -- replies -------------------------------------------------------------------------
    async def open(self, entry: Entry, ctx: Context | None = None) -> Entry:
        """The entry with its author's text readable (None where the key was destroyed)."""
        if not sealing.sealed_names(entry.kind, entry.fields):
            return entry
        if ctx is not None and (entry.relationship_id, entry.author_id) == (
            ctx.relationship_id,
            ctx.actor,
        ):
            key: bytes | None = ctx.key  # the actor's own entry: their key is at hand
        else:
            key = await self._keyring().existing_key(entry.relationship_id, entry.author_id)
        fields = sealing.unseal(
            key, entry.relationship_id, entry.author_id, entry.id, entry.kind, entry.fields
        )
        return entry.model_copy(update={"fields": fields})

    async def open_all(self, entries: list[Entry]) -> list[Entry]:
        return [await self.open(entry) for entry in entries]
