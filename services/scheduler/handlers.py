"""One function per message the scheduler handles, and the tick that fires what is due.

Events keep the schedules (rituals, reminders, boundary windows, reviews, programs); each
event type has its function here, registered by type in app.py. The tick claims one due
item at a time with a lease, reads what the item's decision needs (store.py), lets
firing.py decide, then writes and publishes what it decided and moves the item on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from services.scheduler import dates, domain, firing, program, reviews, store
from services.scheduler.domain import derived_id, stamp
from services.scheduler.firing import Fired, MemberDay
from services.scheduler.sealing import Sealer
from services.scheduler.settings import SchedulerSettings
from shared import crypto, recurrence, tombstones
from shared.clock import SYSTEM_CLOCK, Clock
from shared.envelope import Envelope, Visibility, new_id
from shared.logging import get_logger
from shared.membership import authorize, members_of
from shared.messages.base import DecodedEvent, EventData, new_event
from shared.messages.checkin import (
    BoundaryActivated,
    BoundaryRetired,
    CheckinLogged,
    RitualCompleted,
    RitualCreated,
    RitualSkipped,
)
from shared.messages.gateway import (
    MemberErased,
    MemberUpdated,
    RelationshipCreated,
)
from shared.messages.insights import FlagCleared, FlagRaised, HealthUpdated
from shared.messages.scheduler import (
    DateAccepted,
    DateDeclined,
    DateProposed,
    ProgramAccepted,
    ProgramProposed,
)
from shared.messages.scheduler_rpc import (
    AcceptDate,
    AcceptProgram,
    DateList,
    DateOut,
    DateRef,
    DeclineDate,
    ExportSchedules,
    GetProgram,
    ListDates,
    ListReviews,
    MemberLocalTime,
    ProgramView,
    PromptOut,
    ProposeDate,
    ProposeProgram,
    ReviewList,
    ReviewOut,
    ReviewRef,
    ReviewSettings,
    ReviewSettingsOut,
    StopProgram,
    SuggestedSlot,
    Suggestions,
    SuggestionsQuery,
)
from shared.messages.views_rpc import Schedule, ScheduleItem, ScheduleQuery
from shared.messages.vocabulary import FlagCode
from shared.mongo import Document, Session
from shared.nats import publish_event
from shared.problems import Conflict, InvalidInput, NotFound, Unavailable
from shared.repeating import Wake
from shared.rpc import Empty, Request
from shared.runtime import ServiceRuntime
from shared.zones import zone

log = get_logger(__name__)
T = TypeVar("T")


MAX_DATE_AHEAD = timedelta(days=731)
ANSWER_ATTEMPTS = 5  # members answering the same date or program at once read it again


class MemberSchedules(BaseModel):
    """A member's own scheduling data, for export."""

    settings: dict[str, Any] | None
    reminder: dict[str, Any] | None
    dates: list[dict[str, Any]] = []  # the dates they proposed or answered, plans readable


class SchedulerHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Clock | None = None) -> None:
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, SchedulerSettings)
        self.settings = settings
        self.clock = clock or SYSTEM_CLOCK
        self.owner = new_id()
        self.wake = Wake()  # schedules changed in this process: look again now
        self.master = crypto.master_keys_of(settings)

    @property
    def sealer(self) -> Sealer:
        return Sealer(self.runtime.db, self.master)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.settings.grace_seconds)

    async def prepare(self, runtime: ServiceRuntime) -> None:
        await store.ensure_indexes(runtime.db)

    # -- keeping schedules from events ---------------------------------------------------
    async def _once(self, event: DecodedEvent, purpose: str, effect: Any) -> None:
        await self.runtime.apply_once(purpose, event.id, effect)
        self.wake.now()  # a schedule may have changed: the tick looks at once

    async def _changed(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """A command's schedules written in one transaction; the tick looks at once (a date
        soon, a program starting) instead of at its safety timer."""
        try:
            return await self.runtime.transact(work)
        finally:
            self.wake.now()

    async def seconds_to_next(self) -> float | None:
        """Until the earliest item falls due (None: nothing scheduled)."""
        due = await store.next_fire_at(self.runtime.db)
        return None if due is None else (due - self.clock.now()).total_seconds()

    async def _log_for_review(self, event: DecodedEvent, happening: Document) -> None:
        """Keep what a monthly review may tell: shared, relationship-wide happenings only."""
        rid, envelope, db = event.envelope.relationship_id, event.envelope, self.runtime.db
        if rid is None or envelope.visibility is not Visibility.SHARED:
            return  # a private entry never reaches a review
        # Each happening counts in the month it happened (apps may sync late).
        entry: Document = {"_id": event.id, "relationship_id": rid, "at": envelope.time}
        entry |= happening
        await self._once(
            event, "review-log", lambda session: store.log_for_review(db, session, entry)
        )

    # -- checkin's events (a batch consumer: see app.py) ------------------------------------
    async def flag_checkins(self, batch: list[DecodedEvent]) -> None:
        """The batch's check-ins mark their authors' days (no reminder that day): one bulk
        write; setting a flag is idempotent by itself (no processed marker). The tombstones
        are read again in the same transaction: an erasure that commits while the batch is
        on its way would otherwise have its member's flag written back after it."""
        logged = [e for e in batch
                  if isinstance(e.data, CheckinLogged) and e.envelope.relationship_id]  # fmt: skip
        if not logged:
            return
        db = self.runtime.db
        authors = sorted({e.data.author_id for e in logged if isinstance(e.data, CheckinLogged)})
        zones = await store.member_timezones(db, authors)
        keys = {}
        for event in logged:
            data = event.data
            assert isinstance(data, CheckinLogged)
            tz = zone(zones[data.author_id]) if data.author_id in zones else UTC
            keys[event.id] = domain.checkin_key(
                data.author_id, data.occurred_at.astimezone(tz).date()
            )

        async def write(session: Session) -> None:
            gone = await tombstones.buried_events(db, [e.envelope for e in logged], session)
            alive = [key for event_id, key in keys.items() if event_id not in gone]
            if alive:
                await store.record_checkins(db, alive, session)

        await self.runtime.transact(write)

    async def on_ritual_created(self, event: DecodedEvent) -> None:
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        assert isinstance(data, RitualCreated)
        if rid is None:
            return
        start_local = data.starts_at.replace(tzinfo=None)
        # Its creator, so that their erasure takes the ritual and its schedule along.
        ritual = {"_id": data.ritual_id, "relationship_id": rid, "rrule": data.rrule,
                  "timezone": data.timezone, "starts_at": start_local.isoformat(),
                  "duration_minutes": data.duration_minutes,
                  "created_by": data.created_by}  # fmt: skip
        first = recurrence.next_after(
            data.rrule, data.timezone, start_local, self.clock.now() - timedelta(microseconds=1)
        )

        async def ritual_effect(session: Session) -> None:
            await store.save_ritual(db, session, ritual)
            if first is not None:
                await store.put_schedule(db, session, {
                    "_id": f"ritual:{data.ritual_id}", "kind": "ritual", "relationship_id": rid,
                    "ref": data.ritual_id, "rule": data.rrule, "timezone": data.timezone,
                    "start_local": start_local.isoformat(),
                    "duration_minutes": data.duration_minutes,
                    "phase": "start", "occurrence": first, "next_fire_at": first,
                })  # fmt: skip

        await self._once(event, "schedules", ritual_effect)

    async def on_ritual_completed(self, event: DecodedEvent) -> None:
        assert isinstance(event.data, RitualCompleted)
        await self._ritual_outcome(event, event.data, "completed")

    async def on_ritual_skipped(self, event: DecodedEvent) -> None:
        assert isinstance(event.data, RitualSkipped)
        await self._ritual_outcome(event, event.data, "skipped")

    async def _ritual_outcome(
        self, event: DecodedEvent, data: RitualCompleted | RitualSkipped, outcome: str
    ) -> None:
        """Someone said how an occurrence went: when it ends, it is not missed."""
        db, key = self.runtime.db, domain.outcome_key(data.ritual_id, data.occurrence)
        if event.envelope.relationship_id is None:
            return
        await self._once(event, "schedules",
                         lambda session: store.record_outcome(db, session, key))  # fmt: skip
        # The occurrence lets the review count it once however many answered; no member id,
        # so the log holds nothing to erase when a member leaves.
        await self._log_for_review(event, {"kind": "ritual_outcome", "ref": data.ritual_id,
                                           "occurrence": data.occurrence, "outcome": outcome,
                                           "at": data.occurred_at})  # fmt: skip

    async def on_boundary_activated(self, event: DecodedEvent) -> None:
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        assert isinstance(data, BoundaryActivated)
        if rid is None:
            return
        if data.window is not None:
            now, window = self.clock.now(), data.window
            rule = domain.window_rule([d.value for d in window.days or []], window.start)
            start_local = datetime.combine(now.astimezone(zone(window.timezone)).date(),
                                           datetime.min.time())  # fmt: skip
            first = recurrence.next_after(rule, window.timezone, start_local, now)
            doc = {
                "_id": f"window:{data.boundary_id}", "kind": "window", "relationship_id": rid,
                "ref": data.boundary_id, "rule": rule, "timezone": window.timezone,
                "start_local": start_local.isoformat(),
                "duration_minutes": domain.window_minutes(window.start, window.end),
                "phase": "start", "occurrence": first, "next_fire_at": first, "opened": False,
                "created_by": data.proposed_by,  # their erasure ends the window
            }  # fmt: skip
            await self._once(event, "schedules",
                             lambda session: store.put_schedule(db, session, doc))  # fmt: skip
        await self._log_for_review(event, {"kind": "boundary_agreed", "ref": data.boundary_id,
                                           "boundary_kind": data.kind.value})  # fmt: skip

    async def on_boundary_retired(self, event: DecodedEvent) -> None:
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        assert isinstance(data, BoundaryRetired)
        if rid is None:
            return
        window_id = f"window:{data.boundary_id}"
        await self._once(
            event, "schedules", lambda session: store.drop_schedule(db, session, window_id)
        )

    # -- the gateway's events --------------------------------------------------------------
    async def on_member_updated(self, event: DecodedEvent) -> None:
        """A member's zone, quiet hours and reminder time: their daily reminder follows."""
        data, db = event.data, self.runtime.db
        assert isinstance(data, MemberUpdated)
        settings = {"_id": data.member_id, **data.model_dump(mode="json", exclude={"member_id"})}
        reminder: Document | None = None
        if data.checkin_reminder_time:
            quiet = (data.quiet_hours.start, data.quiet_hours.end) if data.quiet_hours else None
            day, at = domain.next_reminder(
                self.clock.now(), data.checkin_reminder_time, data.timezone, quiet
            )
            reminder = {
                "_id": f"reminder:{data.member_id}", "kind": "reminder",
                "member_id": data.member_id, "time": data.checkin_reminder_time,
                "timezone": data.timezone, "quiet": list(quiet) if quiet else None,
                "day": day.isoformat(), "occurrence": at, "next_fire_at": at,
            }  # fmt: skip

        async def member_effect(session: Session) -> None:
            await store.save_member_settings(db, session, settings)
            if reminder is None:
                await store.drop_schedule(db, session, f"reminder:{data.member_id}")
            else:
                await store.put_schedule(db, session, reminder)

        await self._once(event, "member-settings", member_effect)

    async def on_relationship_created(self, event: DecodedEvent) -> None:
        """A new relationship's monthly review, on its creator's day and zone."""
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        assert isinstance(data, RelationshipCreated)
        if rid is None:
            return
        now = self.clock.now()
        creator = await store.member_settings(db, data.created_by)
        timezone = creator["timezone"] if creator else "UTC"
        local_day = now.astimezone(zone(timezone)).day
        review = {"_id": rid, "day_of_month": min(local_day, 28),
                  "time": self.settings.review_time, "timezone": timezone}  # fmt: skip
        doc = self._review_schedule(rid, review, now, period_start=now)

        async def review_effect(session: Session) -> None:
            await store.save_review_settings(db, session, review)
            await store.put_schedule(db, session, doc)

        await self._once(event, "reviews", review_effect)

    async def on_relationship_erased(self, event: DecodedEvent) -> None:
        rid, db = event.envelope.relationship_id, self.runtime.db
        if rid is None:
            return
        await self._once(
            event, "reviews", lambda session: store.drop_relationship_schedules(db, session, rid)
        )

    # -- insights' events -------------------------------------------------------------------
    async def on_flag_raised(self, event: DecodedEvent) -> None:
        data = event.data
        assert isinstance(data, FlagRaised)
        if data.member_id is None:  # a member's own flag never reaches a review
            await self._log_for_review(event, {"kind": "flag_raised", "code": str(data.code),
                                               "at": data.raised_at})  # fmt: skip
        await self._backoff(event, data.code, data.member_id, on=True)

    async def on_flag_cleared(self, event: DecodedEvent) -> None:
        data = event.data
        assert isinstance(data, FlagCleared)
        if data.member_id is None:
            await self._log_for_review(event, {"kind": "flag_cleared", "code": str(data.code),
                                               "at": data.cleared_at})  # fmt: skip
        await self._backoff(event, data.code, data.member_id, on=False)

    async def on_health_updated(self, event: DecodedEvent) -> None:
        data = event.data
        assert isinstance(data, HealthUpdated)
        values = data.model_dump(include={"emotional", "intellectual", "physical", "overall"})
        await self._log_for_review(event, {"kind": "health", "values": values, "at": data.as_of})

    async def _backoff(
        self, event: DecodedEvent, code: FlagCode, member_id: str | None, on: bool
    ) -> None:
        """Burnout shows: fewer nudges for the relationship until the flag clears."""
        rid, db = event.envelope.relationship_id, self.runtime.db
        if rid is None or code is not FlagCode.INTIMACY_BURNOUT or member_id is not None:
            return
        await self._once(event, "backoff", lambda session: store.set_backoff(db, session, rid, on))

    # -- shared by the commands ------------------------------------------------------------
    async def _authorize(self, request: Request) -> str:
        rid, _ = await self._authorized(request)
        return rid

    async def _authorized(self, request: Request) -> tuple[str, frozenset[str]]:
        c = request.context
        members = await authorize(self.runtime.db, c.relationship_id, c.actor_id, c.members,
                                  c.membership_version)  # fmt: skip
        assert c.relationship_id is not None
        return c.relationship_id, members

    def _event(self, data: EventData, rid: str, request: Request, now: datetime) -> Envelope:
        return new_event(
            data, relationship_id=rid, actor_id=request.context.actor_id,
            visibility=Visibility.SHARED, correlation_id=request.context.correlation_id,
            causation_id=request.command_id, time=now,
        )  # fmt: skip

    async def _member_days(self, members: list[str] | frozenset[str]) -> list[MemberDay]:
        """Each member's zone and quiet hours, as they last set them (UTC and none until then)."""
        days: list[MemberDay] = []
        for member in sorted(members):
            found = await store.member_settings(self.runtime.db, member)
            quiet = (found or {}).get("quiet_hours")
            days.append((member, found["timezone"] if found else "UTC",
                         (quiet["start"], quiet["end"]) if quiet else None))  # fmt: skip
        return days

    async def _member_days_in(self, rid: str) -> list[MemberDay]:
        """The days of the relationship's members as they are now."""
        return await self._member_days(await members_of(self.runtime.db, rid))

    # -- the trust-rebuilding program (commands and query) -----------------------------------
    async def propose_program(self, _payload: ProposeProgram, request: Request) -> ProgramView:
        rid, members = await self._authorized(request)
        actor, now, db = request.context.actor_id, self.clock.now(), self.runtime.db
        assert actor is not None
        current = await store.program(db, rid)
        if current is not None and self._program_status(current, members, now) != "ended":
            return await self._program_view(current, members, now)  # proposing again: no change
        doc: Document = {"_id": rid, "program_id": derived_id(rid, request.command_id),
                         "proposed_by": actor, "accepted_by": [actor], "started_at": None,
                         "proposed_at": now}  # fmt: skip
        if current is not None:  # a new program replaces the one that ended
            doc["version"] = current.get("version")
        events = [self._event(ProgramProposed(program_id=doc["program_id"], proposed_by=actor),
                              rid, request, now)]  # fmt: skip
        if not await self._save_program(doc, members, now, events, request):
            doc = await store.program(db, rid) or doc  # someone proposed at the same moment
        return await self._program_view(doc, members, now)

    async def accept_program(self, _payload: AcceptProgram, request: Request) -> ProgramView:
        rid, members = await self._authorized(request)
        actor, now, db = request.context.actor_id, self.clock.now(), self.runtime.db
        assert actor is not None
        for _ in range(ANSWER_ATTEMPTS):
            current = await store.program(db, rid)
            if current is None or self._program_status(current, members, now) == "ended":
                raise NotFound("no program has been proposed", code="program_not_found")
            if actor in current["accepted_by"] or current["started_at"] is not None:
                return await self._program_view(current, members, now)
            doc = {**current, "accepted_by": [*current["accepted_by"], actor]}
            if await self._save_program(doc, members, now, [], request, accepted_by=actor):
                return await self._program_view(doc, members, now)
        raise Unavailable("too many answers at once; try again")

    async def _save_program(self, doc: Document, members: frozenset[str], now: datetime,
                            events: list[Envelope], request: Request,
                            accepted_by: str | None = None) -> bool:  # fmt: skip
        """Save the program (False: someone changed it meanwhile); it starts, and its stages
        are scheduled, once everyone accepted."""
        rid, db = doc["_id"], self.runtime.db
        schedule: Document | None = None
        if doc["started_at"] is None and program.status(set(doc["accepted_by"]), members,
                                                        None, now) == "active":  # fmt: skip
            doc["started_at"] = now
            schedule = {"_id": f"program:{rid}", "kind": "program", "relationship_id": rid,
                        "program_id": doc["program_id"], "started_at": now, "stage_index": 0,
                        "phase": "stage", "occurrence": now, "next_fire_at": now}  # fmt: skip
        if accepted_by is not None or schedule is not None:
            started, ends = doc["started_at"], None
            if started is not None:
                ends = program.ends_at(started)
            accepted = ProgramAccepted(program_id=doc["program_id"],
                                       member_id=accepted_by or doc["proposed_by"],
                                       started_at=started, ends_at=ends)  # fmt: skip
            events = [*events, self._event(accepted, rid, request, now)]

        expected = doc.get("version")
        saved = {**doc, "version": (expected or 0) + 1}

        async def work(session: Session) -> bool:
            if not await store.save_versioned(db, session, store.PROGRAMS, saved, expected):
                return False
            if schedule is not None:
                await store.put_schedule(db, session, schedule)
            await self.runtime.outbox.add(session, *events)
            return True

        return await self._changed(work)

    @staticmethod
    def _program_status(doc: Document, members: frozenset[str], now: datetime) -> str:
        return program.status(set(doc["accepted_by"]), members, doc["started_at"], now)

    async def _program_view(self, doc: Document | None, members: frozenset[str],
                            now: datetime) -> ProgramView:  # fmt: skip
        if doc is None:
            return ProgramView(status="none")
        started = doc["started_at"]
        view = ProgramView(status=self._program_status(doc, members, now),
                           proposed_by=doc["proposed_by"], accepted_by=doc["accepted_by"],
                           started_at=started,
                           ends_at=program.ends_at(started) if started else None)  # fmt: skip
        if started is not None and view.status == "active":
            stage = program.STAGES[program.stage_index(started, now)]
            view.stage, view.stage_title = stage.stage.value, stage.title
            view.prompts = [PromptOut(text_key=p.text_key, text=p.text) for p in stage.prompts]
        return view

    async def program_status(self, _payload: GetProgram, request: Request) -> ProgramView:
        rid, members = await self._authorized(request)
        now = self.clock.now()
        return await self._program_view(await store.program(self.runtime.db, rid), members, now)

    async def stop_program(self, _payload: StopProgram, request: Request) -> Empty:
        rid = await self._authorize(request)

        async def work(session: Session) -> None:
            await store.drop_schedule(self.runtime.db, session, f"program:{rid}")
            await store.drop_program(self.runtime.db, session, rid)

        await self._changed(work)
        return Empty()

    # -- digital dates (commands and queries) ------------------------------------------------
    async def propose_date(self, cmd: ProposeDate, request: Request) -> DateOut:
        rid, members = await self._authorized(request)
        actor, now, db = request.context.actor_id, self.clock.now(), self.runtime.db
        assert actor is not None
        date_id = derived_id("date", rid, request.command_id)
        if (existing := await store.date_in(db, rid, date_id)) is not None:
            return await self._date_view(existing, members)  # a retried command
        if cmd.starts_at <= now:
            raise InvalidInput("a date must start in the future", field="starts_at")
        if cmd.starts_at > now + MAX_DATE_AHEAD:
            raise InvalidInput("a date starts within the next two years", field="starts_at")
        starts = cmd.starts_at.astimezone(UTC)
        plan = await self.sealer.seal(rid, actor, date_id, cmd.plan) if cmd.plan else None
        doc: Document = {
            "_id": date_id, "relationship_id": rid, "proposed_by": actor, "starts_at": starts,
            "ends_at": starts + timedelta(minutes=cmd.duration_minutes),
            "timezone": cmd.timezone, "duration_minutes": cmd.duration_minutes,
            "kind": cmd.kind.value, "plan": plan, "answers": {actor: "accepted"},
            "remind_minutes_before": cmd.remind_minutes_before, "created_at": now,
        }  # fmt: skip
        doc["status"] = dates.status(doc["answers"], members)
        proposed = DateProposed(**dates.facts(doc), proposed_by=actor)
        if not await self._save_date(doc, [self._event(proposed, rid, request, now)], was="none"):
            doc = await store.date_in(db, rid, date_id) or doc  # a concurrent retry won
        return await self._date_view(doc, members)

    async def accept_date(self, ref: AcceptDate, request: Request) -> DateOut:
        return await self._answer_date(ref, request, "accepted")

    async def decline_date(self, ref: DeclineDate, request: Request) -> DateOut:
        return await self._answer_date(ref, request, "declined")

    async def _answer_date(self, ref: DateRef, request: Request, answer: str) -> DateOut:
        rid, members = await self._authorized(request)
        actor, now, db = request.context.actor_id, self.clock.now(), self.runtime.db
        assert actor is not None
        for _ in range(ANSWER_ATTEMPTS):
            doc = await store.date_in(db, rid, ref.date_id)
            if doc is None:
                raise NotFound("date not found", code="date_not_found")
            if doc["answers"].get(actor) == answer:
                return await self._date_view(doc, members)  # the same answer changes nothing
            if doc["status"] == "declined":
                raise Conflict("this date was declined; propose another", code="date_declined")
            if doc["ends_at"] <= now:
                raise Conflict("this date is over", code="date_over")
            was = doc["status"]
            doc = {**doc, "answers": {**doc["answers"], actor: answer}}
            doc["status"] = dates.status(doc["answers"], members)
            facts = dates.facts(doc)
            data: EventData = (
                DateAccepted(**facts, member_id=actor, confirmed=doc["status"] == "accepted")
                if answer == "accepted" else DateDeclined(**facts, member_id=actor)
            )  # fmt: skip
            if await self._save_date(doc, [self._event(data, rid, request, now)], was=was):
                return await self._date_view(doc, members)
        raise Unavailable("too many answers at once; try again")

    async def _save_date(self, doc: Document, events: list[Envelope], was: str) -> bool:
        """Save a date (False: someone changed it meanwhile); once it stands, its reminder and
        its end are scheduled."""
        db, rid = self.runtime.db, doc["relationship_id"]
        schedule: Document | None = None
        if doc["status"] == "accepted" and was != "accepted":
            remind = doc["starts_at"] - timedelta(minutes=doc["remind_minutes_before"])
            schedule = {"_id": f"date:{doc['_id']}", "kind": "date", "relationship_id": rid,
                        "ref": doc["_id"], "phase": "remind", "facts": dates.facts(doc),
                        "remind_minutes_before": doc["remind_minutes_before"],
                        "occurrence": remind, "next_fire_at": remind}  # fmt: skip

        expected = doc.get("version")
        saved = {**doc, "version": (expected or 0) + 1}

        async def work(session: Session) -> bool:
            if not await store.save_versioned(db, session, store.DATES, saved, expected):
                return False
            if schedule is not None:
                await store.put_schedule(db, session, schedule)
            elif doc["status"] == "declined":
                await store.drop_schedule(db, session, f"date:{doc['_id']}")
            await self.runtime.outbox.add(session, *events)
            return True

        return await self._changed(work)

    async def _local_times(
        self, members: frozenset[str], start: datetime, end: datetime
    ) -> dict[str, MemberLocalTime]:
        return {
            member: MemberLocalTime(timezone=timezone, starts_at=dates.local_view(start, timezone),
                                    ends_at=dates.local_view(end, timezone))
            for member, timezone, _ in await self._member_days(members)
        }  # fmt: skip

    async def _date_view(self, doc: Document, members: frozenset[str]) -> DateOut:
        plan = None
        if doc.get("plan") and doc.get("proposed_by"):
            plan = await self.sealer.open(doc["relationship_id"], doc["proposed_by"],
                                          doc["_id"], doc["plan"])  # fmt: skip
        return DateOut(
            id=doc["_id"], proposed_by=doc.get("proposed_by"), starts_at=doc["starts_at"],
            ends_at=doc["ends_at"], timezone=doc["timezone"],
            duration_minutes=doc["duration_minutes"], kind=doc["kind"], plan=plan,
            status=doc["status"], answers=doc["answers"],
            remind_minutes_before=doc["remind_minutes_before"],
            local_times=await self._local_times(members, doc["starts_at"], doc["ends_at"]),
        )  # fmt: skip

    async def list_dates(self, _payload: ListDates, request: Request) -> DateList:
        rid, members = await self._authorized(request)
        found = await store.dates_of(self.runtime.db, rid)
        return DateList(dates=[await self._date_view(doc, members) for doc in found])

    async def date_suggestions(self, query: SuggestionsQuery, request: Request) -> Suggestions:
        _, members = await self._authorized(request)
        days = [dates.MemberDay(member, timezone, quiet)
                for member, timezone, quiet in await self._member_days(members)]  # fmt: skip
        slots = dates.suggest(days, query.start.astimezone(UTC), query.end.astimezone(UTC),
                              timedelta(minutes=query.duration_minutes))  # fmt: skip
        return Suggestions(slots=[
            SuggestedSlot(starts_at=slot.starts_at, ends_at=slot.ends_at,
                          local_times=await self._local_times(members, slot.starts_at,
                                                              slot.ends_at),
                          inconvenience=slot.inconvenience)
            for slot in slots
        ])  # fmt: skip

    # -- the monthly review (settings, content) ------------------------------------------------
    def _review_schedule(
        self, rid: str, settings: Document, now: datetime, period_start: datetime
    ) -> Document:
        rule = reviews.rule(settings["day_of_month"], settings["time"])
        start_local = now.astimezone(zone(settings["timezone"])).replace(
            tzinfo=None, hour=0, minute=0, second=0, microsecond=0
        )
        first = recurrence.next_after(rule, settings["timezone"], start_local, now)
        return {"_id": f"review:{rid}", "kind": "review", "relationship_id": rid, "rule": rule,
                "timezone": settings["timezone"], "start_local": start_local.isoformat(),
                "period_start": period_start, "occurrence": first,
                "next_fire_at": first}  # fmt: skip

    async def update_review_settings(
        self, change: ReviewSettings, request: Request
    ) -> ReviewSettingsOut:
        rid = await self._authorize(request)
        db, now = self.runtime.db, self.clock.now()
        current = await store.review_settings(db, rid) or {
            "_id": rid, "day_of_month": min(now.day, 28), "time": self.settings.review_time,
            "timezone": "UTC",
        }  # fmt: skip
        merged = {**current, **change.model_dump(exclude_none=True)}
        existing = await store.schedule(db, f"review:{rid}")
        period_start = existing.get("period_start", now) if existing else now
        doc = self._review_schedule(rid, merged, now, period_start)

        async def work(session: Session) -> None:
            await store.save_review_settings(db, session, merged)
            await store.put_schedule(db, session, doc)

        await self._changed(work)
        return await self._review_settings_out(rid, merged, doc["occurrence"])

    async def _review_settings_out(
        self, rid: str, settings: Document, occurrence: datetime | None
    ) -> ReviewSettingsOut:
        next_at = None
        if occurrence is not None:
            days = await self._member_days_in(rid)
            next_at = reviews.clear_of_everyone(occurrence, [(tz, q) for _, tz, q in days])
        return ReviewSettingsOut(day_of_month=settings["day_of_month"], time=settings["time"],
                                 timezone=settings["timezone"], next_at=next_at)  # fmt: skip

    async def list_reviews(self, _payload: ListReviews, request: Request) -> ReviewList:
        rid = await self._authorize(request)
        found = await store.reviews_of(self.runtime.db, rid)
        return ReviewList(reviews=[self._review_out(doc) for doc in found])

    async def get_review(self, ref: ReviewRef, request: Request) -> ReviewList:
        rid = await self._authorize(request)
        found = await store.review_in(self.runtime.db, rid, ref.review_id)
        if found is None:
            raise NotFound("review not found", code="review_not_found")
        return ReviewList(reviews=[self._review_out(found)])

    @staticmethod
    def _review_out(doc: Document) -> ReviewOut:
        return ReviewOut.model_validate({"id": doc["_id"], "period_start": doc["period_start"],
                                         "period_end": doc["period_end"],
                                         **doc["content"]})  # fmt: skip

    # -- firing --------------------------------------------------------------------------
    async def fire_due(self, limit: int = 500) -> int:
        """Fire what is due now; cost grows with the due items, not with all schedules."""
        db, fired = self.runtime.db, 0
        for _ in range(limit):
            now = self.clock.now()
            lease = now + timedelta(seconds=self.settings.lease_seconds)
            item = await store.claim_due(db, now, self.owner, lease)
            if item is None:
                break
            outcome = await self._fire(item, now)
            if outcome.review is not None:
                await store.save_review(db, outcome.review)
            if outcome.review_log is not None:
                await store.log_for_review_now(db, outcome.review_log)
            for event_id, data, rid, member in outcome.events:
                envelope = new_event(
                    data, relationship_id=rid, actor_id=member, event_id=event_id, time=now,
                    visibility=Visibility.PRIVATE if member else Visibility.SHARED,
                )  # fmt: skip
                await publish_event(self.runtime.broker, self.settings.namespace, envelope)
            await store.add_schedules(db, outcome.nudges)
            await store.finish(db, item["_id"], self.owner, outcome.changes)
            fired += 1
        return fired

    async def _fire(self, item: Document, now: datetime) -> Fired:
        """Read what the item's decision needs, then let firing.py decide."""
        kinds = {
            "ritual": self._fire_ritual,
            "reminder": self._fire_reminder,
            "window": self._fire_window,
            "review": self._fire_review,
            "nudge": self._fire_nudge,
            "date": self._fire_date,
            "program": self._fire_program,
        }
        return await kinds[item["kind"]](item, now)

    async def _fire_ritual(self, item: Document, now: datetime) -> Fired:
        if item["phase"] == "start":
            days = await self._member_days_in(item["relationship_id"])
            return firing.ritual_starts(item, now, self.grace, days)
        key = domain.outcome_key(item["ref"], item["occurrence"])
        return firing.ritual_ends(item, await store.has_outcome(self.runtime.db, key))

    async def _fire_reminder(self, item: Document, now: datetime) -> Fired:
        member, db = item["member_id"], self.runtime.db
        checkin_key = domain.checkin_key(member, firing.reminder_day(item))
        relationships = await store.relationships_of_member(db, member)
        return firing.reminder(
            item, now, self.grace,
            checked_in=await store.checked_in(db, checkin_key),
            backed_off=await store.backed_off(db, relationships),
            backoff_every_days=self.settings.backoff_every_days,
        )  # fmt: skip

    async def _fire_window(self, item: Document, now: datetime) -> Fired:
        return firing.window(item, now, self.grace)

    async def _fire_review(self, item: Document, now: datetime) -> Fired:
        rid, db = item["relationship_id"], self.runtime.db
        days = await self._member_days_in(rid)
        month = None
        if (period := firing.review_period(item, now, self.grace, days)) is not None:
            start, end = period
            month = firing.ReviewMonth(await store.last_health_before(db, rid, start),
                                       await store.review_log(db, rid, start, end))  # fmt: skip
        return firing.review(item, now, self.grace, days, month)

    async def _fire_program(self, item: Document, now: datetime) -> Fired:
        if item.get("phase") == "end":
            return firing.program_end(item)
        return firing.program_stage(item, await self._member_days_in(item["relationship_id"]))

    async def _fire_nudge(self, item: Document, now: datetime) -> Fired:
        rid, db = item["relationship_id"], self.runtime.db
        backed_off = await store.backed_off(db, [rid])
        return firing.nudge(item, now, self.grace, backed_off, await members_of(db, rid))

    async def _fire_date(self, item: Document, now: datetime) -> Fired:
        rid = item["relationship_id"]
        current = await store.date_in(self.runtime.db, rid, item["ref"])
        if item["phase"] == "remind":
            days = await self._member_days_in(rid)
            return firing.date_reminds(item, now, self.grace, current, days)
        return firing.date_happened(item, current)

    # -- erasure ---------------------------------------------------------------------------
    async def erase_member(self, session: Session, erased: MemberErased) -> None:
        await store.erase_member(
            self.runtime.db, session, erased.member_id, erased.every_relationship_id
        )

    async def erase_relationship(self, session: Session, relationship_id: str) -> None:
        await store.drop_relationship_schedules(self.runtime.db, session, relationship_id)
        await store.erase_relationship(self.runtime.db, session, relationship_id)

    # -- queries -------------------------------------------------------------------------
    async def member_export(self, _payload: ExportSchedules, request: Request) -> MemberSchedules:
        member = request.context.actor_id
        assert member is not None
        db = self.runtime.db
        settings = await store.member_settings(db, member)
        reminder = await store.schedule(db, f"reminder:{member}")
        dates = []
        for found in await store.dates_of_member(db, member):
            view = await self._date_view(found, frozenset(found["answers"]))
            dates.append({"relationship_id": found["relationship_id"],
                          **view.model_dump(mode="json")})  # fmt: skip
        return MemberSchedules(settings=settings, reminder=reminder, dates=dates)

    async def schedule(self, query: ScheduleQuery, request: Request) -> Schedule:
        rid, members = await self._authorized(request)
        db, member = self.runtime.db, request.context.actor_id
        assert member is not None
        viewer = await store.member_settings(db, member)
        viewer_zone = zone(viewer["timezone"]) if viewer else UTC
        rituals = await store.rituals_of(db, rid)
        windows = await store.schedules_of(db, rid, "window")
        reminder = await store.schedule(db, f"reminder:{member}")
        review = await store.schedule(db, f"review:{rid}")
        days = [(tz, quiet) for _, tz, quiet in await self._member_days(members)]
        dates = []
        for found in await store.dates_of(db, rid, query.start, query.end):
            if found["status"] != "declined":
                local_times = await self._local_times(members, found["starts_at"], found["ends_at"])
                dates.append((found, {m: t.starts_at for m, t in local_times.items()}))

        def expand() -> list[ScheduleItem]:
            items: list[ScheduleItem] = []

            def add(kind: str, ref: str | None, start: datetime, end: datetime | None,
                    **extra: Any) -> None:  # fmt: skip
                local = start.astimezone(viewer_zone).isoformat()
                items.append(ScheduleItem(kind=kind, ref_id=ref, starts_at=start, ends_at=end,
                                          local_time=local, **extra))  # fmt: skip

            for ritual in rituals:
                start_local = datetime.fromisoformat(ritual["starts_at"])
                duration = timedelta(minutes=ritual["duration_minutes"])
                for start in occurrences(
                    ritual["rrule"], ritual["timezone"], start_local, query.start, query.end
                ):
                    add("ritual", ritual["_id"], start, start + duration)
            for window in windows:
                start_local = datetime.fromisoformat(window["start_local"])
                length = timedelta(minutes=window["duration_minutes"])
                for start in occurrences(
                    window["rule"], window["timezone"], start_local, query.start, query.end
                ):
                    add("boundary_window", window["ref"], start, start + length)
            for found, local_times in dates:
                add("digital_date", found["_id"], found["starts_at"], found["ends_at"],
                    status=found["status"], local_times=local_times)  # fmt: skip
            if review is not None:
                for nominal in occurrences(
                    review["rule"], review["timezone"],
                    datetime.fromisoformat(review["start_local"]),
                    query.start - timedelta(days=1), query.end,
                ):  # fmt: skip
                    due = reviews.clear_of_everyone(nominal, days)
                    if query.start <= due < query.end:
                        add("review", f"{rid}-{stamp(nominal)}", due, None)
            if reminder is not None:
                quiet = tuple(reminder["quiet"]) if reminder.get("quiet") else None
                cursor = query.start - timedelta(microseconds=1)
                while True:
                    _, at = domain.next_reminder(
                        cursor, reminder["time"], reminder["timezone"], quiet
                    )
                    if at >= query.end:
                        break
                    add("checkin_reminder", None, at, None)
                    cursor = at
            return sorted(items, key=lambda item: item.starts_at)[:500]

        # Each rule's expansion is bounded (recurrence.MAX_PER_EXPANSION); it still runs off
        # the event loop, so a large schedule never stalls firing or other requests.
        return Schedule(items=await asyncio.to_thread(expand))


def occurrences(
    rule: str, timezone: str, start_local: datetime, start: datetime, end: datetime
) -> list[datetime]:
    """A stored rule's occurrences; one kept from before today's limits shows none."""
    try:
        return recurrence.occurrences_between(rule, timezone, start_local, start, end)
    except InvalidInput:
        return []
