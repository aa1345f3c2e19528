"""Every fact members log, forwarded to the checkin service; and the views on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request

from services.gateway.deps import EntryId, Membership, command_id, rpc_of
from services.gateway.middleware import REPLAYED
from services.gateway.routes.errors import AUTHED, WRITE
from services.gateway.schemas import (
    AnswerIn,
    BreachIn,
    EntriesOut,
    EntryOut,
    OutcomeIn,
    PerspectiveIn,
    RepairIn,
)
from shared.messages.asks import Asks
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
    ProposeBoundary,
    RecordRitualOutcome,
    ReportBreach,
    RetireBoundary,
    TimelineQuery,
)
from shared.messages.views_rpc import Insights, InsightsQuery, Schedule, ScheduleQuery
from shared.problems import InvalidInput

router = APIRouter(prefix="/v1/relationships/{rid}", tags=["facts"])
views = APIRouter(prefix="/v1/relationships/{rid}", tags=["views"])
Handler = TypeVar("Handler", bound=Callable[..., Any])

ENTRY_KINDS = {
    "checkin", "bid", "touch", "time_log", "boundary", "breach", "conflict", "repair",
    "assessment", "ritual", "ritual_outcome",
}  # fmt: skip


async def forward(ctx: Membership, request: Request, command: Asks[Entry]) -> EntryOut:
    entry, replayed = await rpc_of(request).call_replayable(
        command, context=ctx.call_context(), command_id=command_id(request, ctx.caller)
    )
    if replayed:  # the Idempotency middleware tells the client
        setattr(request.state, REPLAYED, True)
    return EntryOut.of(entry)


async def ask(ctx: Membership, request: Request, query: Asks[EntryList]) -> EntriesOut:
    found = await rpc_of(request).call(query, context=ctx.call_context())
    return EntriesOut(
        entries=[EntryOut.of(e) for e in found.entries], next_cursor=found.next_cursor
    )


def post_fact(path: str, summary: str) -> Callable[[Handler], Handler]:
    """A POST that records a new fact: 201 with the entry as its viewer sees it."""
    return router.post(
        path, status_code=201, response_model=EntryOut, responses=WRITE, summary=summary
    )


@post_fact("/checkins", "Log a check-in (private unless shared)")
async def log_checkin(body: LogCheckin, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact("/bids", "Record a bid for connection")
async def make_bid(body: MakeBid, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@router.post(
    "/bids/{bid_id}/answer", response_model=EntryOut, responses=WRITE,
    summary="Answer a bid made to you: toward, away or against",
)  # fmt: skip
async def answer_bid(
    bid_id: EntryId, body: AnswerIn, ctx: Membership, request: Request
) -> EntryOut:
    payload = AnswerBid(bid_id=bid_id, **body.model_dump(exclude_unset=True))
    return await forward(ctx, request, payload)


@post_fact("/touches", "Log touch")
async def log_touch(body: LogTouch, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact("/time-logs", "Log a day's screen and face-to-face time")
async def log_time(body: LogTime, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact("/boundaries", "Propose a boundary")
async def propose_boundary(body: ProposeBoundary, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@router.post(
    "/boundaries/{boundary_id}/accept", response_model=EntryOut, responses=WRITE,
    summary="Accept a boundary (active once every member accepted)",
)  # fmt: skip
async def accept_boundary(boundary_id: EntryId, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, AcceptBoundary(boundary_id=boundary_id))


@router.delete(
    "/boundaries/{boundary_id}", response_model=EntryOut, responses=WRITE,
    summary="Retire a boundary",
)  # fmt: skip
async def retire_boundary(boundary_id: EntryId, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, RetireBoundary(boundary_id=boundary_id))


@post_fact("/boundaries/{boundary_id}/breaches", "Report a breach of an active boundary")
async def report_breach(
    boundary_id: EntryId, body: BreachIn, ctx: Membership, request: Request
) -> EntryOut:
    payload = ReportBreach(boundary_id=boundary_id, **body.model_dump(exclude_unset=True))
    return await forward(ctx, request, payload)


@post_fact("/conflicts", "Log a conflict")
async def log_conflict(body: LogConflict, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact(
    "/conflicts/{conflict_id}/perspective",
    "Add your own view of a conflict another member logged (once; rules count it once)",
)
async def add_perspective(
    conflict_id: EntryId, body: PerspectiveIn, ctx: Membership, request: Request
) -> EntryOut:
    payload = AddPerspective(conflict_id=conflict_id, **body.model_dump(exclude_unset=True))
    return await forward(ctx, request, payload)


@post_fact("/conflicts/{conflict_id}/repair", "Log the repair of a conflict")
async def log_repair(
    conflict_id: EntryId, body: RepairIn, ctx: Membership, request: Request
) -> EntryOut:
    payload = LogRepair(conflict_id=conflict_id, **body.model_dump(exclude_unset=True))
    return await forward(ctx, request, payload)


@post_fact("/assessments", "Answer the ten-point self-assessment")
async def complete_assessment(
    body: CompleteAssessment, ctx: Membership, request: Request
) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact("/rituals", "Create a recurring ritual")
async def create_ritual(body: CreateRitual, ctx: Membership, request: Request) -> EntryOut:
    return await forward(ctx, request, body)


@post_fact("/rituals/{ritual_id}/outcomes", "Record how one occurrence went")
async def record_outcome(
    ritual_id: EntryId, body: OutcomeIn, ctx: Membership, request: Request
) -> EntryOut:
    payload = RecordRitualOutcome(ritual_id=ritual_id, **body.model_dump(exclude_unset=True))
    return await forward(ctx, request, payload)


# -- views -----------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


@views.get("/timeline", response_model=EntriesOut, responses=AUTHED, summary="Newest first")
async def timeline(
    ctx: Membership,
    request: Request,
    limit: Limit = 50,
    cursor: Cursor = None,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> EntriesOut:
    if kind and not set(kind) <= ENTRY_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(sorted(ENTRY_KINDS))}", field="kind")
    return await ask(ctx, request, TimelineQuery(limit=limit, cursor=cursor, kinds=kind))


@views.get("/boundaries", response_model=EntriesOut, responses=AUTHED, summary="With status")
async def boundaries(ctx: Membership, request: Request) -> EntriesOut:
    return await ask(ctx, request, ListBoundaries())


@views.get("/rituals", response_model=EntriesOut, responses=AUTHED, summary="The rituals")
async def rituals(ctx: Membership, request: Request) -> EntriesOut:
    return await ask(ctx, request, ListRituals())


@views.get("/bids", response_model=EntriesOut, responses=AUTHED, summary="Open bids")
async def open_bids(ctx: Membership, request: Request) -> EntriesOut:
    return await ask(ctx, request, ListOpenBids())


@views.get(
    "/schedule", response_model=Schedule, responses=AUTHED,
    summary="Upcoming ritual occurrences, reminders, boundary windows, digital dates and the "
    "monthly review (default: 7 days)",
)  # fmt: skip
async def schedule(
    ctx: Membership,
    request: Request,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> Schedule:
    start = start or datetime.now(UTC)
    end = end or start + timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give times with an offset (RFC 3339)", field="from")
    try:
        query = ScheduleQuery(start=start, end=end)
    except ValueError as exc:
        raise InvalidInput(str(exc).splitlines()[-1].strip(), field="to") from exc
    return await rpc_of(request).call(query, context=ctx.call_context())


@views.get("/insights", response_model=Insights, responses=AUTHED, summary="As you may see them")
async def insights(ctx: Membership, request: Request) -> Insights:
    return await rpc_of(request).call(InsightsQuery(), context=ctx.call_context())
