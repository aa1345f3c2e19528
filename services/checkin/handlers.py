"""One function per command and query of the checkin service.

Every command has one shape: authorize → (repeat? return the first result) →
load → decide (domain) → save facts, command record and events in one
transaction → reply. A guarded document that changed meanwhile makes the
command plan again, so concurrent acceptances or answers stay correct.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.checkin import domain, store
from services.checkin.keyring import Keyring
from services.checkin.settings import CheckinSettings
from services.checkin.store import ConcurrentChange, Update, Writes
from shared import crypto, privacy, recurrence
from shared.envelope import Envelope, Visibility, new_id
from shared.erasure import handle_erasure
from shared.logging import get_logger
from shared.membership import authorize
from shared.messages import checkin as events
from shared.messages.base import EventData, new_event
from shared.messages.checkin import CheckinErasureConfirmed
from shared.messages.checkin_rpc import (
    AddPerspective,
    AnswerBid,
    BoundaryRef,
    CompleteAssessment,
    CreateRitual,
    Entry,
    EntryList,
    LogCheckin,
    LogConflict,
    LogRepair,
    LogTime,
    LogTouch,
    MakeBid,
    NoPayload,
    ProposeBoundary,
    RecordRitualOutcome,
    ReportBreach,
    TimelineQuery,
)
from shared.messages.gateway import MemberErased
from shared.mongo import Document, Session
from shared.problems import Conflict, InvalidInput, NotFound
from shared.rpc import Request
from shared.runtime import ServiceRuntime

log = get_logger(__name__)

PLAN_ATTEMPTS = 5

# The free text of each kind of entry: stored and published sealed under the author's key.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "checkin": ("note", "gratitude", "feelings"),
    "boundary": ("rule",),
    "breach": ("note",),
    "conflict": ("topic",),
    "ritual": ("title",),
    "ritual_outcome": ("reason",),
}


@dataclass
class Context:
    """Who acts where, as decided before any rule runs."""

    actor: str
    relationship_id: str
    members: frozenset[str]
    now: datetime
    request: Request
    key: bytes  # the actor's data key for this relationship


@dataclass
class Plan:
    result: Entry
    writes: Writes = field(default_factory=Writes)
    events: list[Envelope] = field(default_factory=list)


Planner = Callable[[Context], Awaitable[Plan]]


def entry_doc(
    ctx: Context,
    kind: str,
    entry_id: str,
    occurred_at: datetime,
    visibility: Visibility,
    fields: dict[str, Any],
    state: dict[str, Any] | None = None,
) -> Document:
    return {
        "_id": entry_id,
        "relationship_id": ctx.relationship_id,
        "kind": kind,
        "author_id": ctx.actor,
        "visibility": visibility.value,
        "occurred_at": occurred_at,
        "recorded_at": ctx.now,
        "fields": fields,
        "state": state or {},
        "version": 1,
    }


def view(document: Document, **state: Any) -> Entry:
    """The entry as replied to its viewer: its fields plus its current state."""
    return Entry(
        id=document["_id"],
        kind=document["kind"],
        relationship_id=document["relationship_id"],
        author_id=document["author_id"],
        visibility=Visibility(document["visibility"]),
        occurred_at=document["occurred_at"],
        recorded_at=document["recorded_at"],
        fields={**document["fields"], **document.get("state", {}), **state},
    )


def seen_by(entry: Entry, viewer: str) -> Entry:
    """The entry as a member other than its author may see it (author-only fields gone)."""
    fields = privacy.entry_fields_for(entry.kind, entry.author_id, viewer, entry.fields)
    return entry if fields is entry.fields else entry.model_copy(update={"fields": fields})


def event(ctx: Context, data: EventData, visibility: Visibility, subject: str) -> Envelope:
    return new_event(
        data,
        relationship_id=ctx.relationship_id,
        actor_id=ctx.actor,
        visibility=visibility,
        subject=subject,
        correlation_id=ctx.request.context.correlation_id,
        causation_id=ctx.request.command_id,
        time=ctx.now,
    )


def fingerprint(key: bytes, name: str, payload: BaseModel) -> str:
    """Tells a retried command from a different one under the same id. Keyed by the
    author's data key: guessing a small payload (a mood) from it is impossible, and
    erasure, which destroys the key, leaves nothing to match against."""
    return hmac.new(key, f"{name}:{payload.model_dump_json()}".encode(), "sha256").hexdigest()


class CheckinHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Callable[[], datetime] | None = None):
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, CheckinSettings)
        self.settings = settings
        self.master = crypto.master_keys_of(settings)
        self._keyring: Keyring | None = None
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = Keyring(self.runtime.db, self.master)
        return self._keyring

    def clock(self) -> datetime:
        return domain.to_millis(self._clock())

    # -- the one command pipeline ------------------------------------------------------
    async def _context(self, request: Request) -> Context:
        rid = request.context.relationship_id
        if not rid:
            raise InvalidInput("a relationship is required", field="relationship_id")
        members = await authorize(
            self.runtime.db,
            rid,
            request.context.actor_id,
            request.context.members,
            request.context.membership_version,
        )
        actor = request.context.actor_id
        assert actor is not None  # authorize refused anyone else
        key = await self.keyring.key_for(rid, actor)
        return Context(actor, rid, members, self.clock(), request, key)

    # -- sealing free text ---------------------------------------------------------------
    @staticmethod
    def _seal(ctx: Context, kind: str, entry_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Encrypt the kind's free-text fields under the author's key, bound to the entry."""
        sealed = dict(fields)
        for name in TEXT_FIELDS.get(kind, ()):
            value = sealed.get(name)
            where = f"{ctx.relationship_id}|{ctx.actor}|{entry_id}|{name}"
            if isinstance(value, str):
                sealed[name] = crypto.encrypt_text(ctx.key, value, where)
            elif isinstance(value, list):
                sealed[name] = [crypto.encrypt_text(ctx.key, v, where) for v in value]
        return sealed

    async def _open(self, entry: Entry) -> Entry:
        """The entry with its author's text readable (None where the key was destroyed)."""
        names = [n for n in TEXT_FIELDS.get(entry.kind, ()) if entry.fields.get(n)]
        if not names:
            return entry
        key = await self.keyring.existing_key(entry.relationship_id, entry.author_id)
        where = f"{entry.relationship_id}|{entry.author_id}|{entry.id}|"
        fields = dict(entry.fields)
        for name in names:
            value = fields[name]
            try:
                if key is None:
                    raise crypto.KeyUnavailable("erased")
                if isinstance(value, list):
                    fields[name] = [crypto.decrypt_text(key, v, where + name) for v in value]
                else:
                    fields[name] = crypto.decrypt_text(key, value, where + name)
            except crypto.KeyUnavailable:
                fields[name] = [] if isinstance(value, list) else None
        return entry.model_copy(update={"fields": fields})

    async def _open_all(self, entries: list[Entry]) -> list[Entry]:
        return [await self._open(entry) for entry in entries]

    async def _execute(
        self, name: str, payload: BaseModel, request: Request, planner: Planner
    ) -> Entry:
        ctx = await self._context(request)
        db = self.runtime.db
        digest = fingerprint(ctx.key, name, payload)
        for _ in range(PLAN_ATTEMPTS):
            if (done := await store.find_command(db, request.command_id)) is not None:
                if done["fingerprint"] != digest or done["actor"] != ctx.actor:
                    raise Conflict(
                        "this command id was already used for a different request",
                        code="idempotency_key_reused",
                    )
                return await self._open(Entry.model_validate(done["result"]))
            plan = await planner(ctx)
            command = {
                "_id": request.command_id,
                "name": name,
                "actor": ctx.actor,
                "relationship_id": ctx.relationship_id,
                "fingerprint": digest,
                "result": plan.result.model_dump(mode="json"),
                "at": ctx.now,
            }

            async def work(
                session: Session, plan: Plan = plan, command: Document = command
            ) -> None:
                await store.commit(db, session, command, plan.writes)
                await self.runtime.outbox.add(session, *plan.events)

            try:
                await self.runtime.transact(work)
            except ConcurrentChange:
                ctx.now = self.clock()
                continue
            return await self._open(plan.result)
        raise Conflict("too many concurrent changes; try again", code="concurrent_change")

    async def _load(self, ctx: Context, kind: str, entry_id: str) -> Document:
        document = await store.get_entry(
            self.runtime.db, ctx.relationship_id, entry_id, kind, ctx.actor
        )
        if document is None:
            raise NotFound(f"{kind} not found", code=f"{kind}_not_found")
        return document

    # -- facts -------------------------------------------------------------------------
    async def log_checkin(self, cmd: LogCheckin, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            plain = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
            fields = self._seal(ctx, "checkin", entry_id, plain)
            doc = entry_doc(ctx, "checkin", entry_id, at, cmd.visibility, fields)
            criticism = cmd.visibility is Visibility.SHARED and domain.reads_as_criticism(cmd.note)
            data = events.CheckinLogged(
                checkin_id=entry_id, author_id=ctx.actor, occurred_at=at, mood=cmd.mood,
                connection=cmd.connection, pillars=cmd.pillars, needs=cmd.needs,
                signals=cmd.signals, feelings=fields["feelings"], gratitude=fields["gratitude"],
                note=fields["note"], criticism=criticism,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, cmd.visibility, entry_id)])

        return await self._execute("log_checkin", cmd, request, plan)

    async def make_bid(self, cmd: MakeBid, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            domain.check_bid_target(ctx.actor, cmd.to_member_id, ctx.members)
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            fields = cmd.model_dump(mode="json", exclude={"occurred_at"})
            doc = entry_doc(ctx, "bid", entry_id, at, Visibility.SHARED, fields, {"status": "open"})
            data = events.BidMade(
                bid_id=entry_id, from_member_id=ctx.actor, to_member_id=cmd.to_member_id,
                kind=cmd.kind, channel=cmd.channel, occurred_at=at,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, Visibility.SHARED, entry_id)])

        return await self._execute("make_bid", cmd, request, plan)

    async def answer_bid(self, cmd: AnswerBid, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            bid = await self._load(ctx, "bid", cmd.bid_id)
            state = domain.BidState(
                from_member_id=bid["author_id"],
                to_member_id=bid["fields"]["to_member_id"],
                answered=bid["state"]["status"] != "open",
            )
            domain.check_bid_answer(state, ctx.actor)
            at = max(domain.occurred(cmd.occurred_at, ctx.now), bid["occurred_at"])
            answer = {"status": "answered", "response": cmd.response.value, "answered_at": at}
            update = Update(
                bid["_id"], bid["version"], {f"state.{k}": v for k, v in answer.items()}
            )
            data = events.BidAnswered(
                bid_id=bid["_id"], from_member_id=state.from_member_id,
                to_member_id=state.to_member_id, response=cmd.response,
                made_at=bid["occurred_at"], occurred_at=at,
            )  # fmt: skip
            result = view(bid, **answer)
            return Plan(
                result, Writes(updates=[update]), [event(ctx, data, Visibility.SHARED, bid["_id"])]
            )

        return await self._execute("answer_bid", cmd, request, plan)

    async def log_touch(self, cmd: LogTouch, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            domain.check_touch_partner(ctx.actor, cmd.with_member_id, ctx.members)
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            fields = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
            doc = entry_doc(ctx, "touch", entry_id, at, cmd.visibility, fields)
            data = events.TouchLogged(
                touch_id=entry_id, author_id=ctx.actor, kind=cmd.kind, sexual=cmd.sexual,
                minutes=cmd.minutes, occurred_at=at, with_member_id=cmd.with_member_id,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, cmd.visibility, entry_id)])

        return await self._execute("log_touch", cmd, request, plan)

    async def log_time(self, cmd: LogTime, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            # One log per member and day: the id is derived, so a second one is a 409.
            day = f"{ctx.relationship_id}:{ctx.actor}:{cmd.date.isoformat()}"
            entry_id = "time-" + hashlib.sha256(day.encode()).hexdigest()[:40]
            if await store.entry_exists(self.runtime.db, entry_id):
                raise Conflict("this day is already logged", code="already_recorded")
            at = domain.occurred(
                datetime.combine(cmd.date, datetime.min.time(), tzinfo=UTC), ctx.now
            )
            fields = cmd.model_dump(mode="json", exclude={"visibility"})
            doc = entry_doc(ctx, "time_log", entry_id, at, cmd.visibility, fields)
            data = events.TimeLogged(
                time_log_id=entry_id, author_id=ctx.actor, date=cmd.date,
                screen_minutes=cmd.screen_minutes, face_to_face_minutes=cmd.face_to_face_minutes,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, cmd.visibility, entry_id)])

        return await self._execute("log_time", cmd, request, plan)

    # -- boundaries --------------------------------------------------------------------
    @staticmethod
    def _boundary_state(document: Document) -> domain.BoundaryState:
        state = document["state"]
        return domain.BoundaryState(frozenset(state["accepted_by"]), state["retired"])

    def _boundary_view(self, document: Document, members: frozenset[str]) -> Entry:
        state = self._boundary_state(document)
        return view(
            document,
            status=domain.boundary_status(state, members),
            awaiting=domain.awaiting(state, members),
        )

    async def propose_boundary(self, cmd: ProposeBoundary, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            entry_id = new_id()
            state = {"accepted_by": [ctx.actor], "retired": False}
            fields = self._seal(ctx, "boundary", entry_id, cmd.model_dump(mode="json"))
            doc = entry_doc(ctx, "boundary", entry_id, ctx.now, Visibility.SHARED, fields, state)
            result = self._boundary_view(doc, ctx.members)
            data = events.BoundaryProposed(
                boundary_id=entry_id, proposed_by=ctx.actor, kind=cmd.kind, rule=fields["rule"],
                window=cmd.window, awaiting=result.fields["awaiting"],
            )  # fmt: skip
            return Plan(result, Writes([doc]), [event(ctx, data, Visibility.SHARED, entry_id)])

        return await self._execute("propose_boundary", cmd, request, plan)

    async def accept_boundary(self, cmd: BoundaryRef, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            doc = await self._load(ctx, "boundary", cmd.boundary_id)
            state, activated = domain.accept_boundary(
                self._boundary_state(doc), ctx.actor, ctx.members
            )
            accepted = sorted(state.accepted_by)
            update = Update(doc["_id"], doc["version"], {"state.accepted_by": accepted})
            doc = {**doc, "state": {**doc["state"], "accepted_by": accepted}}
            result = self._boundary_view(doc, ctx.members)
            found: list[EventData] = [
                events.BoundaryAccepted(
                    boundary_id=doc["_id"], member_id=ctx.actor, awaiting=result.fields["awaiting"]
                )
            ]
            if activated:
                found.append(
                    events.BoundaryActivated(
                        boundary_id=doc["_id"],
                        kind=doc["fields"]["kind"],
                        window=doc["fields"].get("window"),
                        accepted_by=accepted,
                    )
                )
            envelopes = [event(ctx, data, Visibility.SHARED, doc["_id"]) for data in found]
            return Plan(result, Writes(updates=[update]), envelopes)

        return await self._execute("accept_boundary", cmd, request, plan)

    async def retire_boundary(self, cmd: BoundaryRef, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            doc = await self._load(ctx, "boundary", cmd.boundary_id)
            domain.retire_boundary(self._boundary_state(doc))
            update = Update(doc["_id"], doc["version"], {"state.retired": True})
            doc = {**doc, "state": {**doc["state"], "retired": True}}
            data = events.BoundaryRetired(boundary_id=doc["_id"], retired_by=ctx.actor)
            result = self._boundary_view(doc, ctx.members)
            return Plan(
                result, Writes(updates=[update]), [event(ctx, data, Visibility.SHARED, doc["_id"])]
            )

        return await self._execute("retire_boundary", cmd, request, plan)

    async def report_breach(self, cmd: ReportBreach, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            boundary = await self._load(ctx, "boundary", cmd.boundary_id)
            domain.check_breach(self._boundary_state(boundary), ctx.members)
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            plain = cmd.model_dump(mode="json", exclude={"occurred_at"})
            fields = self._seal(ctx, "breach", entry_id, plain)
            doc = entry_doc(ctx, "breach", entry_id, at, Visibility.SHARED, fields)
            data = events.BoundaryBreached(
                breach_id=entry_id, boundary_id=cmd.boundary_id, reported_by=ctx.actor,
                note=fields.get("note"), occurred_at=at,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, Visibility.SHARED, entry_id)])

        return await self._execute("report_breach", cmd, request, plan)

    # -- conflicts and repairs ---------------------------------------------------------
    async def log_conflict(self, cmd: LogConflict, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            plain = cmd.model_dump(mode="json", exclude={"occurred_at", "visibility"})
            fields = self._seal(ctx, "conflict", entry_id, plain)
            doc = entry_doc(
                ctx, "conflict", entry_id, at, cmd.visibility, fields, {"repaired": False}
            )
            data = events.ConflictLogged(
                conflict_id=entry_id, author_id=ctx.actor, occurred_at=at, topic=fields["topic"],
                intensity=cmd.intensity, shut_down=cmd.shut_down,
                sarcasm_or_contempt=cmd.sarcasm_or_contempt,
                avoided_eye_contact=cmd.avoided_eye_contact,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, cmd.visibility, entry_id)])

        return await self._execute("log_conflict", cmd, request, plan)

    async def add_perspective(self, cmd: AddPerspective, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            conflict = await self._load(ctx, "conflict", cmd.conflict_id)
            perspectives = dict(conflict["state"].get("perspectives", {}))
            domain.check_perspective(ctx.actor, conflict["author_id"], perspectives)
            mine = cmd.model_dump(mode="json", exclude={"conflict_id"})
            perspectives[ctx.actor] = mine
            update = Update(
                conflict["_id"], conflict["version"], {f"state.perspectives.{ctx.actor}": mine}
            )
            # A perspective is as private as its conflict (only a shared one reaches others).
            visibility = Visibility(conflict["visibility"])
            data = events.ConflictPerspectiveAdded(
                conflict_id=cmd.conflict_id, author_id=ctx.actor, intensity=cmd.intensity,
                shut_down=cmd.shut_down, sarcasm_or_contempt=cmd.sarcasm_or_contempt,
                avoided_eye_contact=cmd.avoided_eye_contact,
                conflict_occurred_at=conflict["occurred_at"], occurred_at=ctx.now,
            )  # fmt: skip
            result = view(conflict, perspectives=perspectives)
            return Plan(
                result, Writes([], [update]), [event(ctx, data, visibility, cmd.conflict_id)]
            )

        return await self._execute("add_perspective", cmd, request, plan)

    async def log_repair(self, cmd: LogRepair, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            conflict = await self._load(ctx, "conflict", cmd.conflict_id)
            domain.check_repair(conflict["state"]["repaired"])
            at = max(domain.occurred(cmd.occurred_at, ctx.now), conflict["occurred_at"])
            visibility = Visibility(
                conflict["visibility"]
            )  # a repair is as private as its conflict
            entry_id = new_id()
            fields = cmd.model_dump(mode="json", exclude={"occurred_at"})
            doc = entry_doc(ctx, "repair", entry_id, at, visibility, fields)
            update = Update(conflict["_id"], conflict["version"], {"state.repaired": True})
            data = events.RepairLogged(
                repair_id=entry_id, conflict_id=cmd.conflict_id, author_id=ctx.actor,
                felt=cmd.felt, occurred_at=at,
            )  # fmt: skip
            return Plan(
                view(doc), Writes([doc], [update]), [event(ctx, data, visibility, entry_id)]
            )

        return await self._execute("log_repair", cmd, request, plan)

    # -- assessment --------------------------------------------------------------------
    async def complete_assessment(self, cmd: CompleteAssessment, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            score, band = domain.score_assessment(cmd.answers)
            at = domain.occurred(cmd.occurred_at, ctx.now)
            entry_id = new_id()
            fields = {"answers": cmd.answers, "score": score, "band": band.value}
            doc = entry_doc(ctx, "assessment", entry_id, at, cmd.visibility, fields)
            data = events.AssessmentCompleted(
                assessment_id=entry_id, member_id=ctx.actor, answers=cmd.answers, score=score,
                band=band, occurred_at=at,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, cmd.visibility, entry_id)])

        return await self._execute("complete_assessment", cmd, request, plan)

    # -- rituals -----------------------------------------------------------------------
    async def create_ritual(self, cmd: CreateRitual, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            start = recurrence.local_start(cmd.starts_at, cmd.timezone)
            recurrence.parse_rule(cmd.rrule, start)
            limit = self.settings.max_rituals_per_relationship
            if await store.count_of_kind(self.runtime.db, ctx.relationship_id, "ritual") >= limit:
                raise Conflict(
                    f"a relationship keeps at most {limit} rituals", code="ritual_limit_reached"
                )
            entry_id = new_id()
            plain = {**cmd.model_dump(mode="json"), "starts_at": start.isoformat()}
            fields = self._seal(ctx, "ritual", entry_id, plain)
            doc = entry_doc(ctx, "ritual", entry_id, ctx.now, Visibility.SHARED, fields)
            data = events.RitualCreated(
                ritual_id=entry_id, created_by=ctx.actor, title=fields["title"], rrule=cmd.rrule,
                timezone=cmd.timezone, starts_at=start, duration_minutes=cmd.duration_minutes,
            )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, Visibility.SHARED, entry_id)])

        return await self._execute("create_ritual", cmd, request, plan)

    async def record_ritual_outcome(self, cmd: RecordRitualOutcome, request: Request) -> Entry:
        async def plan(ctx: Context) -> Plan:
            ritual = await self._load(ctx, "ritual", cmd.ritual_id)
            fields = ritual["fields"]
            occurrence = cmd.occurrence.astimezone(UTC)
            # The id is derived from the occurrence and the member: each member records their
            # own outcome (three or more members may not all make it), once.
            slot = f"{ritual['_id']}:{int(occurrence.timestamp())}:{ctx.actor}"
            entry_id = "outcome-" + hashlib.sha256(slot.encode()).hexdigest()[:40]
            domain.check_outcome(
                fields["rrule"], fields["timezone"], datetime.fromisoformat(fields["starts_at"]),
                occurrence, ctx.now, await store.entry_exists(self.runtime.db, entry_id),
            )  # fmt: skip
            body = self._seal(ctx, "ritual_outcome", entry_id, cmd.model_dump(mode="json"))
            doc = entry_doc(ctx, "ritual_outcome", entry_id, ctx.now, Visibility.SHARED, body)
            data: EventData
            if cmd.outcome == "completed":
                data = events.RitualCompleted(
                    ritual_id=ritual["_id"], occurrence=occurrence, member_id=ctx.actor,
                    occurred_at=ctx.now,
                )  # fmt: skip
            else:
                data = events.RitualSkipped(
                    ritual_id=ritual["_id"], occurrence=occurrence, member_id=ctx.actor,
                    reason=body.get("reason"), occurred_at=ctx.now,
                )  # fmt: skip
            return Plan(view(doc), Writes([doc]), [event(ctx, data, Visibility.SHARED, entry_id)])

        return await self._execute("record_ritual_outcome", cmd, request, plan)

    # -- queries -----------------------------------------------------------------------
    async def timeline(self, query: TimelineQuery, request: Request) -> EntryList:
        ctx = await self._context(request)
        found, cursor = await store.timeline(
            self.runtime.db, ctx.relationship_id, ctx.actor, query.limit, query.cursor, query.kinds
        )
        return EntryList(
            entries=await self._open_all(
                [seen_by(self._present(doc, ctx.members), ctx.actor) for doc in found]
            ),
            next_cursor=cursor,
        )

    async def boundaries(self, _query: NoPayload, request: Request) -> EntryList:
        ctx = await self._context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "boundary", ctx.actor
        )
        views = [seen_by(self._boundary_view(doc, ctx.members), ctx.actor) for doc in found]
        return EntryList(entries=await self._open_all(views))

    async def open_bids(self, _query: NoPayload, request: Request) -> EntryList:
        ctx = await self._context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "bid", ctx.actor, {"state.status": "open"}
        )
        return EntryList(
            entries=await self._open_all([seen_by(view(doc), ctx.actor) for doc in found])
        )

    async def rituals(self, _query: NoPayload, request: Request) -> EntryList:
        ctx = await self._context(request)
        found = await store.entries_of_kind(
            self.runtime.db, ctx.relationship_id, "ritual", ctx.actor
        )
        return EntryList(
            entries=await self._open_all([seen_by(view(doc), ctx.actor) for doc in found])
        )

    async def my_records(self, _query: NoPayload, request: Request) -> EntryList:
        """Everything the caller wrote, in every relationship (for export)."""
        actor = request.context.actor_id
        if not actor:
            raise InvalidInput("an actor is required", field="actor_id")
        return EntryList(
            entries=await self._open_all(
                [view(doc) for doc in await store.authored_by(self.runtime.db, actor)]
            )
        )

    def _present(self, document: Document, members: frozenset[str]) -> Entry:
        if document["kind"] == "boundary":
            return self._boundary_view(document, members)
        return view(document)


COMMANDS: dict[str, type[BaseModel]] = {
    "log_checkin": LogCheckin,
    "make_bid": MakeBid,
    "answer_bid": AnswerBid,
    "log_touch": LogTouch,
    "log_time": LogTime,
    "propose_boundary": ProposeBoundary,
    "accept_boundary": BoundaryRef,
    "retire_boundary": BoundaryRef,
    "report_breach": ReportBreach,
    "log_conflict": LogConflict,
    "log_repair": LogRepair,
    "add_perspective": AddPerspective,
    "complete_assessment": CompleteAssessment,
    "create_ritual": CreateRitual,
    "record_ritual_outcome": RecordRitualOutcome,
}
QUERIES: dict[str, type[BaseModel]] = {
    "timeline": TimelineQuery,
    "boundaries": NoPayload,
    "open_bids": NoPayload,
    "rituals": NoPayload,
    "my_records": NoPayload,
}


def wire(runtime: ServiceRuntime, clock: Callable[[], datetime] | None = None) -> CheckinHandlers:
    handlers = CheckinHandlers(runtime, clock)
    runtime.keep_membership()
    for name, payload_type in COMMANDS.items():
        runtime.respond("cmd", name, payload_type, getattr(handlers, name))
    for name, payload_type in QUERIES.items():
        runtime.respond("qry", name, payload_type, getattr(handlers, name))

    async def erase_member(session: Session, erased: MemberErased) -> None:
        # Their entries and command records go; their keys go, so any copy left in the
        # stream or a backup can no longer be read. The others' entries stay.
        await store.erase_member(runtime.db, session, erased.member_id)
        await handlers.keyring.destroy_member(session, erased.member_id)

    async def erase_relationship(session: Session, relationship_id: str) -> None:
        await store.erase_relationship(runtime.db, session, relationship_id)
        await handlers.keyring.destroy_relationship(session, relationship_id)

    handle_erasure(runtime, CheckinErasureConfirmed, erase_member, erase_relationship)

    async def indexes(rt: ServiceRuntime) -> None:
        settings = rt.settings
        assert isinstance(settings, CheckinSettings)
        await store.ensure_indexes(rt.db, timedelta(hours=settings.command_record_ttl_hours))
        await handlers.keyring.ensure_indexes()
        await handlers.keyring.rewrap()  # a new master key takes over the old keys at start

    runtime.on_startup(indexes)
    return handlers
