"""One function per message the scheduler handles."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.scheduler import store
from shared import recurrence
from shared.consumer import apply_once
from shared.membership import authorize
from shared.messages.base import DecodedEvent
from shared.messages.checkin import RitualCreated
from shared.messages.gateway import MemberUpdated
from shared.messages.views_rpc import Schedule, ScheduleItem, ScheduleQuery
from shared.mongo import Session
from shared.rpc import Request
from shared.runtime import ServiceRuntime
from shared.zones import zone


class SchedulerHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def on_fact(self, event: DecodedEvent) -> None:
        """Keep what schedules are computed from; other facts are for later rules."""
        data, rid = event.data, event.envelope.relationship_id
        if not isinstance(data, RitualCreated) or rid is None:
            return
        db = self.runtime.db
        ritual = {
            "_id": data.ritual_id,
            "relationship_id": rid,
            "rrule": data.rrule,
            "timezone": data.timezone,
            "starts_at": data.starts_at.replace(tzinfo=None).isoformat(),
            "duration_minutes": data.duration_minutes,
        }

        async def effect(session: Session) -> None:
            await store.save_ritual(db, session, ritual)

        await apply_once(self.runtime.mongo, db, "rituals", event.id, effect)

    async def on_member(self, event: DecodedEvent) -> None:
        data = event.data
        if not isinstance(data, MemberUpdated):
            return
        db = self.runtime.db
        settings = {"_id": data.member_id, **data.model_dump(mode="json", exclude={"member_id"})}

        async def effect(session: Session) -> None:
            await store.save_member_settings(db, session, settings)

        await apply_once(self.runtime.mongo, db, "member-settings", event.id, effect)

    async def on_insight(self, event: DecodedEvent) -> None:
        """Burnout flags will make the scheduler back off (the scheduler issue)."""

    async def schedule(self, query: ScheduleQuery, request: Request) -> Schedule:
        context = request.context
        db = self.runtime.db
        await authorize(
            db, context.relationship_id, context.actor_id, context.members,
            context.membership_version,
        )  # fmt: skip
        assert context.relationship_id is not None and context.actor_id is not None
        viewer = await store.member_settings(db, context.actor_id)
        viewer_zone = zone(viewer["timezone"]) if viewer else None
        items: list[ScheduleItem] = []
        for ritual in await store.rituals_of(db, context.relationship_id):
            start_local = datetime.fromisoformat(ritual["starts_at"])
            duration = timedelta(minutes=ritual["duration_minutes"])
            for start in recurrence.occurrences_between(
                ritual["rrule"], ritual["timezone"], start_local, query.start, query.end
            ):
                items.append(
                    ScheduleItem(
                        kind="ritual",
                        ref_id=ritual["_id"],
                        starts_at=start,
                        ends_at=start + duration,
                        local_time=start.astimezone(viewer_zone).isoformat()
                        if viewer_zone
                        else None,
                    )
                )
        return Schedule(items=sorted(items, key=lambda item: item.starts_at)[:500])


def wire(runtime: ServiceRuntime) -> SchedulerHandlers:
    handlers = SchedulerHandlers(runtime)
    runtime.keep_membership()
    runtime.consume("checkin", "schedules", handlers.on_fact)
    runtime.consume("gateway", "member-settings", handlers.on_member)
    runtime.consume("insights", "backoff", handlers.on_insight)
    runtime.respond("qry", "schedule", ScheduleQuery, handlers.schedule)

    async def indexes(rt: ServiceRuntime) -> None:
        await store.ensure_indexes(rt.db)

    runtime.on_startup(indexes)
    return handlers
