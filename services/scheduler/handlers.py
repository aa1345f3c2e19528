"""One function per message the scheduler handles, and the tick that fires what is due.

Events keep the schedules (rituals, reminders, boundary windows, reviews,
programs). The tick claims one due item at a time with a lease, publishes with an
event id derived from (schedule, occurrence) - so a crash after publishing and a
re-fire is dropped by JetStream - and moves the item to its next occurrence.
After downtime, what is within the grace period fires once; older occurrences
are recorded as missed, never sent as a flood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.scheduler import domain, store
from services.scheduler.clock import Clock, SystemClock
from services.scheduler.settings import SchedulerSettings
from shared import recurrence
from shared.consumer import apply_once
from shared.envelope import Visibility, new_id
from shared.erasure import handle_erasure
from shared.membership import authorize
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
    RelationshipErased,
)
from shared.messages.insights import FlagCleared, FlagRaised
from shared.messages.scheduler import (
    BoundaryWindowClosed,
    BoundaryWindowOpened,
    ProgramStageStarted,
    ReminderDue,
    ReminderKind,
    ReviewDue,
    RitualDue,
    RitualMissed,
    SchedulerErasureConfirmed,
)
from shared.messages.views_rpc import Schedule, ScheduleItem, ScheduleQuery
from shared.messages.vocabulary import FlagCode
from shared.mongo import Document, Session, next_due
from shared.nats import publish_event
from shared.rpc import Empty, Request
from shared.runtime import ServiceRuntime, Wake, repeat_when_due
from shared.zones import zone


def stamp(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass
class Fired:
    """What one due item produced: events (with derived ids) and its next state."""

    events: list[tuple[str, EventData, str | None, str | None]] = field(default_factory=list)
    changes: dict[str, Any] | None = None  # None: the schedule is over


class MemberSchedules(BaseModel):
    """A member's own scheduling data, for export."""

    settings: dict[str, Any] | None
    reminder: dict[str, Any] | None


class SchedulerHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Clock | None = None) -> None:
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, SchedulerSettings)
        self.settings = settings
        self.clock = clock or SystemClock()
        self.owner = new_id()
        self.wake = Wake()  # schedules changed in this process: look again now

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.settings.grace_seconds)

    # -- keeping schedules from events ---------------------------------------------------
    async def _once(self, event: DecodedEvent, purpose: str, effect: Any) -> None:
        await apply_once(self.runtime.mongo, self.runtime.db, purpose, event.id, effect)
        self.wake.now()  # a schedule may have changed: the tick looks at once

    async def seconds_to_next(self) -> float | None:
        """Until the earliest item falls due (None: nothing scheduled)."""
        due = await next_due(self.runtime.db[store.SCHEDULES], "next_fire_at")
        return None if due is None else (due - self.clock.now()).total_seconds()

    async def on_facts(self, batch: list[DecodedEvent]) -> None:
        """A batch of checkin events: the check-ins' day flags in one read and one bulk
        write (setting a flag is idempotent by itself), the rest one by one, in order."""
        checkins = [
            e for e in batch if isinstance(e.data, CheckinLogged) and e.envelope.relationship_id
        ]
        if checkins:
            db = self.runtime.db
            authors = sorted(
                {e.data.author_id for e in checkins if isinstance(e.data, CheckinLogged)}
            )
            zones = await store.member_timezones(db, authors)
            keys = []
            for e in checkins:
                assert isinstance(e.data, CheckinLogged)
                tz = zone(zones[e.data.author_id]) if e.data.author_id in zones else UTC
                keys.append(
                    f"{e.data.author_id}:{e.data.occurred_at.astimezone(tz).date().isoformat()}"
                )
            await store.record_checkins(db, keys)
        for event in batch:
            if not isinstance(event.data, CheckinLogged):
                await self.on_fact(event)

    async def on_fact(self, event: DecodedEvent) -> None:
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        if rid is None:
            return
        now = self.clock.now()
        if isinstance(data, RitualCreated):
            start_local = data.starts_at.replace(tzinfo=None)
            ritual = {"_id": data.ritual_id, "relationship_id": rid, "rrule": data.rrule,
                      "timezone": data.timezone, "starts_at": start_local.isoformat(),
                      "duration_minutes": data.duration_minutes}  # fmt: skip
            first = recurrence.next_after(
                data.rrule, data.timezone, start_local, now - timedelta(microseconds=1)
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
        elif isinstance(data, RitualCompleted | RitualSkipped):
            key = f"{data.ritual_id}:{stamp(data.occurrence)}"
            await self._once(event, "schedules",
                             lambda session: store.record_outcome(db, session, key))  # fmt: skip
        elif isinstance(data, CheckinLogged):
            settings = await store.member_settings(db, data.author_id)
            tz = zone(settings["timezone"]) if settings else UTC
            key = f"{data.author_id}:{data.occurred_at.astimezone(tz).date().isoformat()}"
            # Setting a flag is idempotent by itself: no processed marker, no transaction.
            await store.record_checkin(db, None, key)
        elif isinstance(data, BoundaryActivated) and data.window is not None:
            window = data.window
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
            }  # fmt: skip
            await self._once(event, "schedules",
                             lambda session: store.put_schedule(db, session, doc))  # fmt: skip
        elif isinstance(data, BoundaryRetired):
            window_id = f"window:{data.boundary_id}"
            await self._once(
                event, "schedules", lambda session: store.drop_schedule(db, session, window_id)
            )

    async def on_gateway(self, event: DecodedEvent) -> None:
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        now = self.clock.now()
        if isinstance(data, MemberUpdated):
            settings = {
                "_id": data.member_id,
                **data.model_dump(mode="json", exclude={"member_id"}),
            }
            reminder: Document | None = None
            if data.checkin_reminder_time:
                quiet = (data.quiet_hours.start, data.quiet_hours.end) if data.quiet_hours else None
                day, at = domain.next_reminder(
                    now, data.checkin_reminder_time, data.timezone, quiet
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
        elif isinstance(data, RelationshipCreated) and rid is not None:
            hour = self.settings.review_hour_utc
            rule = f"FREQ=MONTHLY;BYMONTHDAY={min(now.day, 28)};BYHOUR={hour};BYMINUTE=0;BYSECOND=0"
            start_local = now.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
            first = recurrence.next_after(rule, "UTC", start_local, now)
            doc = {"_id": f"review:{rid}", "kind": "review", "relationship_id": rid, "rule": rule,
                   "timezone": "UTC", "start_local": start_local.isoformat(),
                   "occurrence": first, "next_fire_at": first}  # fmt: skip
            await self._once(event, "reviews", lambda session: store.put_schedule(db, session, doc))
        elif isinstance(data, RelationshipErased) and rid is not None:
            gone = rid
            await self._once(
                event,
                "reviews",
                lambda session: store.drop_relationship_schedules(db, session, gone),
            )

    async def on_insight(self, event: DecodedEvent) -> None:
        """Burnout shows: fewer nudges for the relationship until the flag clears."""
        data, rid, db = event.data, event.envelope.relationship_id, self.runtime.db
        if rid is None or not isinstance(data, FlagRaised | FlagCleared):
            return
        if data.code is not FlagCode.INTIMACY_BURNOUT or data.member_id is not None:
            return
        on = isinstance(data, FlagRaised)
        await self._once(event, "backoff", lambda session: store.set_backoff(db, session, rid, on))

    # -- programs (commands) ---------------------------------------------------------------
    async def start_program(self, _payload: Empty, request: Request) -> Empty:
        rid = await self._authorize(request)
        now = self.clock.now()
        doc = {
            "_id": f"program:{rid}", "kind": "program", "relationship_id": rid,
            "started_at": now, "stage_index": 0, "occurrence": now, "next_fire_at": now,
        }  # fmt: skip

        async def work(session: Session) -> None:
            if await self.runtime.db[store.SCHEDULES].find_one(
                {"_id": doc["_id"]}, session=session
            ):
                return  # already running: starting again changes nothing
            await store.put_schedule(self.runtime.db, session, doc)

        await self.runtime.transact(work)
        self.wake.now()
        return Empty()

    async def stop_program(self, _payload: Empty, request: Request) -> Empty:
        rid = await self._authorize(request)
        await self.runtime.transact(
            lambda session: store.drop_schedule(self.runtime.db, session, f"program:{rid}")
        )
        return Empty()

    async def _authorize(self, request: Request) -> str:
        c = request.context
        await authorize(self.runtime.db, c.relationship_id, c.actor_id, c.members,
                        c.membership_version)  # fmt: skip
        assert c.relationship_id is not None
        return c.relationship_id

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
            for event_id, data, rid, member in outcome.events:
                envelope = new_event(
                    data, relationship_id=rid, actor_id=member, event_id=event_id, time=now,
                    visibility=Visibility.PRIVATE if member else Visibility.SHARED,
                )  # fmt: skip
                await publish_event(self.runtime.broker, self.settings.namespace, envelope)
            await store.finish(db, item["_id"], self.owner, outcome.changes)
            fired += 1
        return fired

    async def _fire(self, item: Document, now: datetime) -> Fired:
        kind = item["kind"]
        if kind == "ritual":
            return await self._fire_ritual(item, now)
        if kind == "reminder":
            return await self._fire_reminder(item, now)
        if kind == "window":
            return self._fire_window(item, now)
        if kind == "review":
            return await self._fire_review(item, now)
        return self._fire_program(item)

    def _next(self, item: Document, after: datetime) -> datetime | None:
        start = datetime.fromisoformat(item["start_local"])
        return recurrence.next_after(item["rule"], item["timezone"], start, after)

    def _missed(self, item: Document, extra: int = 1) -> int:
        return int(item.get("missed_count", 0)) + extra

    async def _fire_ritual(self, item: Document, now: datetime) -> Fired:
        occurrence, rid, ritual = item["occurrence"], item["relationship_id"], item["ref"]
        ends = occurrence + timedelta(minutes=item["duration_minutes"])
        out = Fired()
        if item["phase"] == "start":
            if domain.firing(occurrence, now, self.grace).fire:
                out.events.append((f"ritual-due-{ritual}-{stamp(occurrence)}",
                                   RitualDue(ritual_id=ritual, occurrence=occurrence, ends_at=ends),
                                   rid, None))  # fmt: skip
            out.changes = {"phase": "end", "next_fire_at": ends}
            return out
        if not await store.has_outcome(self.runtime.db, f"{ritual}:{stamp(occurrence)}"):
            missed = RitualMissed(ritual_id=ritual, occurrence=occurrence)
            out.events.append((f"ritual-missed-{ritual}-{stamp(occurrence)}", missed, rid, None))
        following = self._next(item, occurrence)
        out.changes = None if following is None else {
            "phase": "start", "occurrence": following, "next_fire_at": following,
        }  # fmt: skip
        return out

    async def _fire_reminder(self, item: Document, now: datetime) -> Fired:
        member, day = item["member_id"], date.fromisoformat(item["day"])
        db, out = self.runtime.db, Fired()
        quiet = tuple(item["quiet"]) if item.get("quiet") else None
        relationships = await store.relationships_of_member(db, member)
        wanted = domain.reminder_wanted(
            day,
            await store.checked_in(db, f"{member}:{day.isoformat()}"),
            await store.backed_off(db, relationships),
            self.settings.backoff_every_days,
        )
        on_time = domain.firing(item["occurrence"], now, self.grace).fire
        if wanted and on_time:
            out.events.append((f"reminder-{member}-{day.isoformat()}", ReminderDue(
                reminder_id=f"{member}-{day.isoformat()}", member_id=member,
                kind=ReminderKind.CHECKIN, local_date=day, due_at=item["occurrence"],
            ), None, member))  # fmt: skip
        next_day, at = domain.next_reminder(
            max(item["occurrence"], now - self.grace),
            item["time"],
            item["timezone"],
            quiet,
        )
        out.changes = {"day": next_day.isoformat(), "occurrence": at, "next_fire_at": at,
                       "missed_count": self._missed(item, int(not on_time))}  # fmt: skip
        return out

    def _fire_window(self, item: Document, now: datetime) -> Fired:
        occurrence, rid, boundary = item["occurrence"], item["relationship_id"], item["ref"]
        closes = occurrence + timedelta(minutes=item["duration_minutes"])
        out = Fired()
        if item["phase"] == "start":
            opened = domain.firing(occurrence, now, self.grace).fire
            if opened:
                out.events.append((f"window-open-{boundary}-{stamp(occurrence)}",
                                   BoundaryWindowOpened(boundary_id=boundary, opens_at=occurrence,
                                                        closes_at=closes), rid, None))  # fmt: skip
            out.changes = {"phase": "end", "next_fire_at": closes, "opened": opened}
            return out
        if item.get("opened"):  # whatever opened is closed again, however late
            out.events.append((f"window-close-{boundary}-{stamp(occurrence)}",
                               BoundaryWindowClosed(boundary_id=boundary, opened_at=occurrence,
                                                    closes_at=closes), rid, None))  # fmt: skip
        following = self._next(item, max(occurrence, now - self.grace))
        out.changes = None if following is None else {
            "phase": "start", "occurrence": following, "next_fire_at": following, "opened": False,
        }  # fmt: skip
        return out

    async def _fire_review(self, item: Document, now: datetime) -> Fired:
        occurrence, rid, out = item["occurrence"], item["relationship_id"], Fired()
        quiet_period = await store.backed_off(self.runtime.db, [rid])
        if domain.firing(occurrence, now, self.grace).fire and not quiet_period:
            out.events.append((f"review-{rid}-{stamp(occurrence)}", ReviewDue(
                review_id=f"{rid}-{stamp(occurrence)}", due_at=occurrence), rid, None))  # fmt: skip
        following = self._next(item, max(occurrence, now - self.grace))
        out.changes = None if following is None else {
            "occurrence": following, "next_fire_at": following,
        }  # fmt: skip
        return out

    def _fire_program(self, item: Document) -> Fired:
        index, rid, out = int(item["stage_index"]), item["relationship_id"], Fired()
        stage = domain.PROGRAM[index]
        program = f"{rid}-{stamp(item['started_at'])}"
        started = ProgramStageStarted(
            program_id=program, stage=stage.stage, prompt_codes=list(stage.prompt_codes),
            starts_at=item["started_at"] + stage.starts_after,
        )  # fmt: skip
        out.events.append((f"program-{program}-{index}", started, rid, None))
        if index + 1 >= len(domain.PROGRAM):
            out.changes = None
        else:
            following = item["started_at"] + domain.PROGRAM[index + 1].starts_after
            out.changes = {"stage_index": index + 1, "occurrence": following,
                           "next_fire_at": following}  # fmt: skip
        return out

    # -- queries -------------------------------------------------------------------------
    async def member_export(self, _payload: Empty, request: Request) -> MemberSchedules:
        member = request.context.actor_id
        assert member is not None
        db = self.runtime.db
        settings = await store.member_settings(db, member)
        reminder = await store.schedule(db, f"reminder:{member}")
        return MemberSchedules(settings=settings, reminder=reminder)

    async def schedule(self, query: ScheduleQuery, request: Request) -> Schedule:
        rid = await self._authorize(request)
        db, member = self.runtime.db, request.context.actor_id
        assert member is not None
        viewer = await store.member_settings(db, member)
        viewer_zone = zone(viewer["timezone"]) if viewer else UTC
        items: list[ScheduleItem] = []

        def add(kind: str, ref: str | None, start: datetime, end: datetime | None) -> None:
            local = start.astimezone(viewer_zone).isoformat()
            items.append(
                ScheduleItem(kind=kind, ref_id=ref, starts_at=start, ends_at=end, local_time=local)
            )

        for ritual in await store.rituals_of(db, rid):
            start_local = datetime.fromisoformat(ritual["starts_at"])
            duration = timedelta(minutes=ritual["duration_minutes"])
            for start in recurrence.occurrences_between(
                ritual["rrule"], ritual["timezone"], start_local, query.start, query.end
            ):
                add("ritual", ritual["_id"], start, start + duration)
        for window in await store.schedules_of(db, rid, "window"):
            start_local = datetime.fromisoformat(window["start_local"])
            length = timedelta(minutes=window["duration_minutes"])
            for start in recurrence.occurrences_between(
                window["rule"], window["timezone"], start_local, query.start, query.end
            ):
                add("boundary_window", window["ref"], start, start + length)
        reminder = await store.schedule(db, f"reminder:{member}")
        if reminder is not None:
            quiet = tuple(reminder["quiet"]) if reminder.get("quiet") else None
            cursor = query.start - timedelta(microseconds=1)
            while True:
                _, at = domain.next_reminder(cursor, reminder["time"], reminder["timezone"], quiet)
                if at >= query.end:
                    break
                add("checkin_reminder", None, at, None)
                cursor = at
        return Schedule(items=sorted(items, key=lambda item: item.starts_at)[:500])


def wire(runtime: ServiceRuntime, clock: Clock | None = None) -> SchedulerHandlers:
    handlers = SchedulerHandlers(runtime, clock)
    runtime.keep_membership()
    runtime.consume_batches("checkin", "schedules", handlers.on_facts)
    runtime.consume("gateway", "schedules", handlers.on_gateway)
    runtime.consume("insights", "backoff", handlers.on_insight)
    runtime.respond("qry", "schedule", ScheduleQuery, handlers.schedule)
    runtime.respond("cmd", "start_program", Empty, handlers.start_program)
    runtime.respond("cmd", "stop_program", Empty, handlers.stop_program)
    runtime.respond("qry", "member_export", Empty, handlers.member_export)

    async def erase_member(session: Session, erased: MemberErased) -> None:
        await store.erase_member(runtime.db, session, erased.member_id)

    async def erase_relationship(session: Session, relationship_id: str) -> None:
        await store.drop_relationship_schedules(runtime.db, session, relationship_id)
        await store.erase_relationship(runtime.db, session, relationship_id)

    handle_erasure(runtime, SchedulerErasureConfirmed, erase_member, erase_relationship)

    async def start(rt: ServiceRuntime) -> None:
        await store.ensure_indexes(rt.db)
        rt.spawn(repeat_when_due(handlers.fire_due, handlers.seconds_to_next, handlers.wake,
                                 handlers.settings.tick_seconds, "scheduler_tick"))  # fmt: skip

    runtime.on_startup(start)
    return handlers
