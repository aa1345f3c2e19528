"""The checkin service: which function answers each command and query, and what it keeps.

Each request type is answered by one function (services/checkin/handlers.py); the catalog
(shared/contract.py) gives its subject. Follow one command end to end in docs/architecture.md.
"""

from __future__ import annotations

from starlette.applications import Starlette

from services.checkin import store
from services.checkin.handlers import CheckinHandlers
from services.checkin.settings import CheckinSettings
from shared.clock import SYSTEM_CLOCK, Clock
from shared.erasure import handle_erasure
from shared.messages.checkin import CheckinErasureConfirmed
from shared.messages.checkin_rpc import (
    AcceptBoundary,
    AddPerspective,
    AnswerBid,
    CompleteAssessment,
    CreateRitual,
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
from shared.runtime import ServiceRuntime


def wire(runtime: ServiceRuntime, clock: Clock = SYSTEM_CLOCK) -> CheckinHandlers:
    handlers = CheckinHandlers(runtime, clock)
    runtime.handle({
        LogCheckin: handlers.log_checkin,
        MakeBid: handlers.make_bid,
        AnswerBid: handlers.answer_bid,
        LogTouch: handlers.log_touch,
        LogTime: handlers.log_time,
        ProposeBoundary: handlers.propose_boundary,
        AcceptBoundary: handlers.accept_boundary,
        RetireBoundary: handlers.retire_boundary,
        ReportBreach: handlers.report_breach,
        LogConflict: handlers.log_conflict,
        AddPerspective: handlers.add_perspective,
        LogRepair: handlers.log_repair,
        CompleteAssessment: handlers.complete_assessment,
        CreateRitual: handlers.create_ritual,
        RecordRitualOutcome: handlers.record_ritual_outcome,
        TimelineQuery: handlers.timeline,
        ListBoundaries: handlers.boundaries,
        ListOpenBids: handlers.open_bids,
        ListRituals: handlers.rituals,
        MyRecords: handlers.my_records,
    })  # fmt: skip
    runtime.keep_membership(handlers.pipeline.memberships)
    runtime.publish_from(store.ENTRIES)  # each command's events travel in its document
    handle_erasure(
        runtime, CheckinErasureConfirmed, handlers.erase_member, handlers.erase_relationship
    )
    runtime.on_startup(handlers.prepare)
    return handlers


def create_runtime(settings: CheckinSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or CheckinSettings())
    wire(runtime)
    return runtime


def create_app(settings: CheckinSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
