"""One short function per command and query of the checkin service.

A command names its decision (services/checkin/domain.py) and whether it acts on an
existing entry; services/checkin/pipeline.py runs them all the same way. Adding a
command is a request model (shared/messages/checkin_rpc.py) and its line in
shared/contract.py, a decision in domain.py, a function here and a line in app.py.
"""

from __future__ import annotations

from datetime import timedelta

from services.checkin import domain, store
from services.checkin.keyring import Keyring
from services.checkin.mapping import view
from services.checkin.pipeline import Pipeline
from services.checkin.settings import CheckinSettings
from shared import crypto, privacy
from shared.clock import SYSTEM_CLOCK, Clock
from shared.logging import get_logger
from shared.messages.checkin_rpc import (
    AcceptBoundary,
    AddPerspective,
    AnswerBid,
    CompleteAssessment,
    CreateRitual,
    Entry,
    EntryList,
    ListBoundaries,
    ListOpenBids,
    ListRituals,
    LogCheckin,
    LogConflict,
    LogRepair,
    LogTime,
    LogTouch,
    MakeBid,
    MyRecords,
    ProposeBoundary,
    RecordRitualOutcome,
    ReportBreach,
    RetireBoundary,
    TimelineQuery,
)
from shared.messages.gateway import MemberErased
from shared.mongo import Document, Session
from shared.problems import Conflict, InvalidInput
from shared.repeating import Wake, repeat_when_due
from shared.rpc import Request
from shared.runtime import ServiceRuntime

log = get_logger(__name__)

PRUNE_EVERY_SECONDS = 3600.0  # a record outlives its TTL by an hour at most


async def _nothing_due() -> float | None:
    return None  # the prune runs on its period only


def seen_by(entry: Entry, viewer: str) -> Entry:
    """The entry as a member other than its author may see it (author-only fields gone)."""
    fields = privacy.entry_fields_for(entry.kind, entry.author_id, viewer, entry.fields)
    return entry if fields is entry.fields else entry.model_copy(update={"fields": fields})


class CheckinHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Clock = SYSTEM_CLOCK):
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, CheckinSettings)
        self.settings = settings
        self.master = crypto.master_keys_of(settings)
        self._keyring: Keyring | None = None
        self._clock = clock
        self.pipeline = Pipeline(runtime, lambda: self.keyring, clock)

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = Keyring(self.runtime.db, self.master)
        return self._keyring

    # -- facts -------------------------------------------------------------------------
    async def log_checkin(self, cmd: LogCheckin, request: Request) -> Entry:
        return await self.pipeline.create(cmd, request, lambda ctx: domain.log_checkin(ctx, cmd))

    async def make_bid(self, cmd: MakeBid, request: Request) -> Entry:
        return await self.pipeline.create(cmd, request, lambda ctx: domain.make_bid(ctx, cmd))

    async def answer_bid(self, cmd: AnswerBid, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("bid", cmd.bid_id),
            lambda ctx, bid: domain.answer_bid(ctx, cmd, bid),
        )  # fmt: skip

    async def log_touch(self, cmd: LogTouch, request: Request) -> Entry:
        return await self.pipeline.create(cmd, request, lambda ctx: domain.log_touch(ctx, cmd))

    async def log_time(self, cmd: LogTime, request: Request) -> Entry:
        return await self.pipeline.create(cmd, request, lambda ctx: domain.log_time(ctx, cmd))

    # -- boundaries --------------------------------------------------------------------
    async def propose_boundary(self, cmd: ProposeBoundary, request: Request) -> Entry:
        return await self.pipeline.create(
            cmd, request, lambda ctx: domain.propose_boundary(ctx, cmd)
        )

    async def accept_boundary(self, cmd: AcceptBoundary, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("boundary", cmd.boundary_id),
            lambda ctx, boundary: domain.accept_boundary_by(ctx, cmd, boundary),
        )  # fmt: skip

    async def retire_boundary(self, cmd: RetireBoundary, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("boundary", cmd.boundary_id),
            lambda ctx, boundary: domain.retire_boundary_by(ctx, cmd, boundary),
        )  # fmt: skip

    async def report_breach(self, cmd: ReportBreach, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("boundary", cmd.boundary_id),
            lambda ctx, boundary: domain.report_breach(ctx, cmd, boundary),
        )  # fmt: skip

    # -- conflicts and repairs ---------------------------------------------------------
    async def log_conflict(self, cmd: LogConflict, request: Request) -> Entry:
        return await self.pipeline.create(cmd, request, lambda ctx: domain.log_conflict(ctx, cmd))

    async def add_perspective(self, cmd: AddPerspective, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("conflict", cmd.conflict_id),
            lambda ctx, conflict: domain.add_perspective(ctx, cmd, conflict),
        )  # fmt: skip

    async def log_repair(self, cmd: LogRepair, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("conflict", cmd.conflict_id),
            lambda ctx, conflict: domain.log_repair(ctx, cmd, conflict),
        )  # fmt: skip

    # -- assessment and rituals --------------------------------------------------------
    async def complete_assessment(self, cmd: CompleteAssessment, request: Request) -> Entry:
        return await self.pipeline.create(
            cmd, request, lambda ctx: domain.complete_assessment(ctx, cmd)
        )

    async def create_ritual(self, cmd: CreateRitual, request: Request) -> Entry:
        # Each ritual fires events for ever: a relationship keeps a bounded number (a count
        # before the insert, so two creating at once may go one over).
        limit = self.settings.max_rituals_per_relationship
        rid = request.context.relationship_id or ""
        if await store.count_of_kind(self.runtime.db, rid, "ritual") >= limit:
            raise Conflict(
                f"a relationship keeps at most {limit} rituals", code="ritual_limit_reached"
            )
        return await self.pipeline.create(cmd, request, lambda ctx: domain.create_ritual(ctx, cmd))

    async def record_ritual_outcome(self, cmd: RecordRitualOutcome, request: Request) -> Entry:
        return await self.pipeline.act_on(
            cmd, request, ("ritual", cmd.ritual_id),
            lambda ctx, ritual: domain.record_ritual_outcome(ctx, cmd, ritual),
        )  # fmt: skip

    # -- queries -----------------------------------------------------------------------
    async def timeline(self, query: TimelineQuery, request: Request) -> EntryList:
        ctx = await self.pipeline.context(request)
        found, cursor = await store.timeline(
            self.runtime.db, ctx.relationship_id, ctx.actor, query.limit, query.cursor, query.kinds
        )
        return EntryList(
            entries=await self.pipeline.open_all(
                [seen_by(self._present(doc, ctx.members), ctx.actor) for doc in found]
            ),
            next_cursor=cursor,
        )

    async def boundaries(self, _query: ListBoundaries, request: Request) -> EntryList:
        ctx = await self.pipeline.context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "boundary", ctx.actor
        )
        views = [seen_by(domain.boundary_view(doc, ctx.members), ctx.actor) for doc in found]
        return EntryList(entries=await self.pipeline.open_all(views))

    async def open_bids(self, _query: ListOpenBids, request: Request) -> EntryList:
        ctx = await self.pipeline.context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "bid", ctx.actor, {"state.status": "open"}
        )
        return EntryList(
            entries=await self.pipeline.open_all([seen_by(view(doc), ctx.actor) for doc in found])
        )

    async def rituals(self, _query: ListRituals, request: Request) -> EntryList:
        ctx = await self.pipeline.context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "ritual", ctx.actor
        )
        return EntryList(
            entries=await self.pipeline.open_all([seen_by(view(doc), ctx.actor) for doc in found])
        )

    async def my_records(self, _query: MyRecords, request: Request) -> EntryList:
        """Everything the caller wrote, in every relationship (for export)."""
        actor = request.context.actor_id
        if not actor:
            raise InvalidInput("an actor is required", field="actor_id")
        return EntryList(
            entries=await self.pipeline.open_all(
                [view(doc) for doc in await store.authored_by(self.runtime.db, actor)]
            )
        )

    def _present(self, document: Document, members: frozenset[str]) -> Entry:
        if document["kind"] == "boundary":
            return domain.boundary_view(document, members)
        return view(document)

    # -- erasure and start-up ------------------------------------------------------------
    async def erase_member(self, session: Session, erased: MemberErased) -> None:
        # Their entries and command records go; their keys go, so any copy left in the
        # stream or a backup can no longer be read. The others' entries stay.
        await store.erase_member(self.runtime.db, session, erased.member_id)
        await self.keyring.destroy_member(session, erased.member_id)

    async def erase_relationship(self, session: Session, relationship_id: str) -> None:
        await store.erase_relationship(self.runtime.db, session, relationship_id)
        await self.keyring.destroy_relationship(session, relationship_id)

    async def prune_command_records(self) -> int:
        """A command's record (its fingerprint and result) answers its retries for
        `command_record_ttl_hours`, then goes. A repeat after that is refused with a 409
        (the entry is there already: `already_recorded`, or the entry's own state), never
        recorded twice."""
        ttl = timedelta(hours=self.settings.command_record_ttl_hours)
        return await store.prune_command_records(self.runtime.db, self._clock.now() - ttl)

    async def prepare(self, runtime: ServiceRuntime) -> None:
        await store.ensure_indexes(runtime.db)
        await self.keyring.ensure_indexes()
        await self.keyring.rewrap()  # a new master key takes over the old keys at start
        runtime.spawn(repeat_when_due(self.prune_command_records, _nothing_due, Wake(),
                                      PRUNE_EVERY_SECONDS, "command_records_prune"))  # fmt: skip
