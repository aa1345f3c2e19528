"""The catalog of every command and query: who answers it, what it takes, what it returns.

Every responder a service wires must be listed here with the payload it takes (a unit test
holds each service's runtime against this table), so it is always the whole request/reply
contract. The gateway publishes it,
with every event model, as the AsyncAPI document (`shared/asyncapi.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

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
from shared.messages.scheduler_rpc import (
    DateList,
    DateOut,
    DateRef,
    ProgramView,
    ProposeDate,
    ReviewList,
    ReviewRef,
    ReviewSettings,
    ReviewSettingsOut,
    Suggestions,
    SuggestionsQuery,
)
from shared.messages.views_rpc import (
    AnswerRecommendation,
    Done,
    Insights,
    InsightsQuery,
    RespondToFlag,
    Schedule,
    ScheduleQuery,
)
from shared.redrive import REDRIVE_COMMAND, RedriveDeadLetter, Redriven
from shared.rpc import Empty, Kind, Pong
from shared.subjects import SERVICES


class Anything(BaseModel):
    """A result whose shape is the owning service's export format (a JSON object)."""


@dataclass(frozen=True)
class Operation:
    kind: Kind
    service: str
    name: str
    request: type[BaseModel]
    result: type[BaseModel]
    summary: str


def _checkin_command(name: str, request: type[BaseModel], summary: str) -> Operation:
    return Operation("cmd", "checkin", name, request, Entry, summary)


OPERATIONS: tuple[Operation, ...] = (
    *(
        Operation("qry", service, "ping", Empty, Pong, f"Is {service} up and ready?")
        for service in SERVICES
    ),
    *(
        Operation("cmd", service, REDRIVE_COMMAND, RedriveDeadLetter, Redriven,
                  f"Publish one of {service}'s dead letters again on its original subject.")
        for service in SERVICES
    ),
    _checkin_command("log_checkin", LogCheckin, "Log a daily check-in."),
    _checkin_command("make_bid", MakeBid, "Record a bid for connection."),
    _checkin_command("answer_bid", AnswerBid, "Answer a bid (its target only)."),
    _checkin_command("log_touch", LogTouch, "Log touch."),
    _checkin_command("log_time", LogTime, "Log a day's screen and face-to-face minutes."),
    _checkin_command("propose_boundary", ProposeBoundary, "Propose a boundary."),
    _checkin_command("accept_boundary", BoundaryRef, "Accept a proposed boundary."),
    _checkin_command("retire_boundary", BoundaryRef, "Retire a boundary."),
    _checkin_command("report_breach", ReportBreach, "Report a breach of a boundary."),
    _checkin_command("log_conflict", LogConflict, "Log a conflict."),
    _checkin_command("add_perspective", AddPerspective, "Add a member's view of a conflict."),
    _checkin_command("log_repair", LogRepair, "Close a conflict with a repair."),
    _checkin_command("complete_assessment", CompleteAssessment, "Answer the self-assessment."),
    _checkin_command("create_ritual", CreateRitual, "Create a recurring ritual."),
    _checkin_command("record_ritual_outcome", RecordRitualOutcome, "Record a ritual outcome."),
    Operation("qry", "checkin", "timeline", TimelineQuery, EntryList, "Entries the caller sees."),
    Operation("qry", "checkin", "boundaries", NoPayload, EntryList, "Boundaries with status."),
    Operation("qry", "checkin", "open_bids", NoPayload, EntryList, "Bids still open."),
    Operation("qry", "checkin", "rituals", NoPayload, EntryList, "The relationship's rituals."),
    Operation("qry", "checkin", "my_records", NoPayload, EntryList, "Everything the caller wrote."),
    Operation("qry", "scheduler", "schedule", ScheduleQuery, Schedule, "The caller's schedule."),
    Operation("cmd", "scheduler", "propose_program", Empty, ProgramView, "Propose the program."),
    Operation("cmd", "scheduler", "accept_program", Empty, ProgramView, "Accept the program."),
    Operation("qry", "scheduler", "program", Empty, ProgramView, "The program: stage, prompts."),
    Operation("cmd", "scheduler", "propose_date", ProposeDate, DateOut, "Propose a digital date."),
    Operation("cmd", "scheduler", "accept_date", DateRef, DateOut, "Accept a proposed date."),
    Operation("cmd", "scheduler", "decline_date", DateRef, DateOut, "Decline a proposed date."),
    Operation("qry", "scheduler", "dates", Empty, DateList, "Dates in every member's time."),
    Operation("qry", "scheduler", "date_suggestions", SuggestionsQuery, Suggestions,
              "Slots outside everyone's quiet hours."),
    Operation("cmd", "scheduler", "review_settings", ReviewSettings, ReviewSettingsOut,
              "When the monthly review comes."),
    Operation("qry", "scheduler", "reviews", Empty, ReviewList, "Monthly reviews."),
    Operation("qry", "scheduler", "review", ReviewRef, ReviewList, "One monthly review."),
    Operation("cmd", "scheduler", "stop_program", Empty, Empty, "Stop the trust program."),
    Operation("qry", "scheduler", "member_export", Empty, Anything, "The caller's schedules."),
    Operation("qry", "insights", "insights", InsightsQuery, Insights, "Insights for the caller."),
    Operation("cmd", "insights", "respond_to_flag", RespondToFlag, Done, "Answer a flag."),
    Operation("cmd", "insights", "answer_recommendation", AnswerRecommendation, Done,
              "Dismiss a recommendation, or mark it done."),
    Operation("qry", "insights", "member_export", InsightsQuery, Anything, "Caller's insights."),
)  # fmt: skip

_BY_KEY = {(op.kind, op.service, op.name): op for op in OPERATIONS}


class UnlistedOperation(LookupError):
    """A responder for an operation the catalog does not list (add it to OPERATIONS)."""


def operation(kind: Kind, service: str, name: str) -> Operation:
    try:
        return _BY_KEY[(kind, service, name)]
    except KeyError:
        raise UnlistedOperation(
            f"{kind} {service}.{name} is not in shared/contract.py OPERATIONS"
        ) from None
