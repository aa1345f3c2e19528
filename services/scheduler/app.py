"""The scheduler service: which function answers each command and query, which function
keeps schedules from each event type, and the tick that fires what is due.

Each request type is answered by one function (services/scheduler/handlers.py); the catalog
(shared/contract.py) gives its subject. Each consumed event type has its function too; what
a due item produces when it fires is decided in services/scheduler/firing.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette

from services.scheduler.handlers import SchedulerHandlers
from services.scheduler.settings import SchedulerSettings
from shared.clock import Clock
from shared.consumer import BatchHandler
from shared.dispatch import EventFunction, by_event_type, wanted
from shared.erasure import handle_erasure
from shared.messages.base import DecodedEvent, EventData
from shared.messages.checkin import (
    BoundaryActivated,
    BoundaryRetired,
    RitualCompleted,
    RitualCreated,
    RitualSkipped,
)
from shared.messages.gateway import MemberUpdated, RelationshipCreated, RelationshipErased
from shared.messages.insights import FlagCleared, FlagRaised, HealthUpdated
from shared.messages.scheduler import SchedulerErasureConfirmed
from shared.messages.scheduler_rpc import (
    AcceptDate,
    AcceptProgram,
    DeclineDate,
    ExportSchedules,
    GetProgram,
    ListDates,
    ListReviews,
    ProposeDate,
    ProposeProgram,
    ReviewRef,
    ReviewSettings,
    StopProgram,
    SuggestionsQuery,
)
from shared.messages.views_rpc import ScheduleQuery
from shared.repeating import repeat_when_due
from shared.runtime import ServiceRuntime

SCHEDULES_LINGER_SECONDS = 0.25


def wire(runtime: ServiceRuntime, clock: Clock | None = None) -> SchedulerHandlers:
    handlers = SchedulerHandlers(runtime, clock)
    runtime.keep_membership()
    # What a member sees in their schedule comes through here: a quarter second's linger,
    # not the aggregates' second.
    runtime.consume_batches("checkin", "schedules", checkins_then_each(handlers, {
        RitualCreated: handlers.on_ritual_created,
        RitualCompleted: handlers.on_ritual_completed,
        RitualSkipped: handlers.on_ritual_skipped,
        BoundaryActivated: handlers.on_boundary_activated,
        BoundaryRetired: handlers.on_boundary_retired,
    }), linger_seconds=SCHEDULES_LINGER_SECONDS)  # fmt: skip
    runtime.consume("gateway", "schedules", by_event_type({
        MemberUpdated: handlers.on_member_updated,
        RelationshipCreated: handlers.on_relationship_created,
        RelationshipErased: handlers.on_relationship_erased,
    }))  # fmt: skip
    runtime.consume("insights", "backoff", by_event_type({
        FlagRaised: handlers.on_flag_raised,
        FlagCleared: handlers.on_flag_cleared,
        HealthUpdated: handlers.on_health_updated,
    }))  # fmt: skip
    runtime.handle({
        ScheduleQuery: handlers.schedule,
        ProposeProgram: handlers.propose_program,
        AcceptProgram: handlers.accept_program,
        StopProgram: handlers.stop_program,
        GetProgram: handlers.program_status,
        ProposeDate: handlers.propose_date,
        AcceptDate: handlers.accept_date,
        DeclineDate: handlers.decline_date,
        ListDates: handlers.list_dates,
        SuggestionsQuery: handlers.date_suggestions,
        ReviewSettings: handlers.update_review_settings,
        ListReviews: handlers.list_reviews,
        ReviewRef: handlers.get_review,
        ExportSchedules: handlers.member_export,
    })  # fmt: skip
    handle_erasure(
        runtime, SchedulerErasureConfirmed, handlers.erase_member, handlers.erase_relationship
    )

    async def start_ticking(rt: ServiceRuntime) -> None:
        rt.spawn(repeat_when_due(handlers.fire_due, handlers.seconds_to_next, handlers.wake,
                                 handlers.settings.tick_seconds, "scheduler_tick"))  # fmt: skip

    runtime.on_startup(handlers.prepare)  # indexes first: the tick reads through them
    runtime.on_startup(start_ticking)
    return handlers


def checkins_then_each(
    handlers: SchedulerHandlers, table: Mapping[type[EventData], EventFunction]
) -> BatchHandler:
    """Checkin's events arrive in batches: the check-ins mark their days all at once, then
    the events the table names go to their functions one by one, in order (each applied
    once per event id)."""
    each = by_event_type(table)

    async def on_batch(batch: list[DecodedEvent]) -> None:
        await handlers.flag_checkins(batch)
        for event in wanted(table, batch):
            await each(event)

    return on_batch


def create_runtime(settings: SchedulerSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or SchedulerSettings())
    wire(runtime)
    return runtime


def create_app(settings: SchedulerSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
