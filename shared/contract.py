"""The catalog of every command and query: who answers it, what it takes, what it returns.

Every responder a service wires must be listed here with the payload it takes (a unit test
holds each service's runtime against this table), so it is always the whole request/reply
contract. The gateway publishes it,
with every event model, as the AsyncAPI document (`shared/asyncapi.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from shared.messages.asks import Anything, answer_type
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
from shared.messages.views_rpc import (
    AnswerRecommendation,
    ExportInsights,
    InsightsQuery,
    RespondToFlag,
    ScheduleQuery,
)
from shared.redrive import REDRIVE_COMMAND, RedriveDeadLetter
from shared.rpc import Kind, Ping
from shared.subjects import SERVICES

__all__ = ["OPERATIONS", "Anything", "Operation", "operation", "operation_for"]


@dataclass(frozen=True)
class Operation:
    kind: Kind
    service: str
    name: str
    request: type[BaseModel]
    summary: str

    @property
    def result(self) -> type[BaseModel]:
        """What the request type says it asks for (`Asks[...]`)."""
        return answer_type(self.request)


def _cmd(service: str, name: str, request: type[BaseModel], summary: str) -> Operation:
    return Operation("cmd", service, name, request, summary)


def _qry(service: str, name: str, request: type[BaseModel], summary: str) -> Operation:
    return Operation("qry", service, name, request, summary)


# Every service answers these two; a caller names the service.
EVERY_SERVICE: tuple[Operation, ...] = (
    *(_qry(service, "ping", Ping, f"Is {service} up and ready?") for service in SERVICES),
    *(
        _cmd(service, REDRIVE_COMMAND, RedriveDeadLetter,
             f"Publish one of {service}'s dead letters again on its original subject.")
        for service in SERVICES
    ),
)  # fmt: skip

OPERATIONS: tuple[Operation, ...] = (
    *EVERY_SERVICE,
    _cmd("checkin", "log_checkin", LogCheckin, "Log a daily check-in."),
    _cmd("checkin", "make_bid", MakeBid, "Record a bid for connection."),
    _cmd("checkin", "answer_bid", AnswerBid, "Answer a bid (its target only)."),
    _cmd("checkin", "log_touch", LogTouch, "Log touch."),
    _cmd("checkin", "log_time", LogTime, "Log a day's screen and face-to-face minutes."),
    _cmd("checkin", "propose_boundary", ProposeBoundary, "Propose a boundary."),
    _cmd("checkin", "accept_boundary", AcceptBoundary, "Accept a proposed boundary."),
    _cmd("checkin", "retire_boundary", RetireBoundary, "Retire a boundary."),
    _cmd("checkin", "report_breach", ReportBreach, "Report a breach of a boundary."),
    _cmd("checkin", "log_conflict", LogConflict, "Log a conflict."),
    _cmd("checkin", "add_perspective", AddPerspective, "Add a member's view of a conflict."),
    _cmd("checkin", "log_repair", LogRepair, "Close a conflict with a repair."),
    _cmd("checkin", "complete_assessment", CompleteAssessment, "Answer the self-assessment."),
    _cmd("checkin", "create_ritual", CreateRitual, "Create a recurring ritual."),
    _cmd("checkin", "record_ritual_outcome", RecordRitualOutcome, "Record a ritual outcome."),
    _qry("checkin", "timeline", TimelineQuery, "Entries the caller sees."),
    _qry("checkin", "boundaries", ListBoundaries, "Boundaries with status."),
    _qry("checkin", "open_bids", ListOpenBids, "Bids still open."),
    _qry("checkin", "rituals", ListRituals, "The relationship's rituals."),
    _qry("checkin", "my_records", MyRecords, "Everything the caller wrote."),
    _qry("scheduler", "schedule", ScheduleQuery, "The caller's schedule."),
    _cmd("scheduler", "propose_program", ProposeProgram, "Propose the program."),
    _cmd("scheduler", "accept_program", AcceptProgram, "Accept the program."),
    _qry("scheduler", "program", GetProgram, "The program: stage, prompts."),
    _cmd("scheduler", "stop_program", StopProgram, "Stop the trust program."),
    _cmd("scheduler", "propose_date", ProposeDate, "Propose a digital date."),
    _cmd("scheduler", "accept_date", AcceptDate, "Accept a proposed date."),
    _cmd("scheduler", "decline_date", DeclineDate, "Decline a proposed date."),
    _qry("scheduler", "dates", ListDates, "Dates in every member's time."),
    _qry("scheduler", "date_suggestions", SuggestionsQuery,
         "Slots outside everyone's quiet hours."),
    _cmd("scheduler", "review_settings", ReviewSettings, "When the monthly review comes."),
    _qry("scheduler", "reviews", ListReviews, "Monthly reviews."),
    _qry("scheduler", "review", ReviewRef, "One monthly review."),
    _qry("scheduler", "member_export", ExportSchedules, "The caller's schedules."),
    _qry("insights", "insights", InsightsQuery, "Insights for the caller."),
    _cmd("insights", "respond_to_flag", RespondToFlag, "Answer a flag."),
    _cmd("insights", "answer_recommendation", AnswerRecommendation,
         "Dismiss a recommendation, or mark it done."),
    _qry("insights", "member_export", ExportInsights, "Caller's insights."),
)  # fmt: skip

_BY_KEY = {(op.kind, op.service, op.name): op for op in OPERATIONS}
_BY_REQUEST = {(op.request, op.service): op for op in OPERATIONS}
_OWNER = {op.request: op for op in OPERATIONS[len(EVERY_SERVICE) :]}


class UnlistedOperation(LookupError):
    """A responder or a call for an operation the catalog does not list (add it to
    OPERATIONS)."""


def operation(kind: Kind, service: str, name: str) -> Operation:
    try:
        return _BY_KEY[(kind, service, name)]
    except KeyError:
        raise UnlistedOperation(
            f"{kind} {service}.{name} is not in shared/contract.py OPERATIONS"
        ) from None


def operation_for(request_type: type[BaseModel], service: str | None = None) -> Operation:
    """The operation a request type addresses (every request type has exactly one owner;
    Ping and RedriveDeadLetter are answered by every service and need `service`)."""
    found = (
        _OWNER.get(request_type) if service is None else _BY_REQUEST.get((request_type, service))
    )
    if found is None:
        raise UnlistedOperation(
            f"{request_type.__name__}"
            + (f" for {service}" if service else "")
            + " is not in shared/contract.py OPERATIONS"
        )
    return found
