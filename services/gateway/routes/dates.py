"""Digital dates for members far apart: proposed, answered by every member, reminded, and
shown in every member's local time. The scheduler owns them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.gateway.deps import EntryId, Membership, command_id, rpc_of
from services.gateway.routes.errors import AUTHED, WRITE
from shared.messages.scheduler_rpc import (
    AcceptDate,
    DateList,
    DateOut,
    DateRef,
    DeclineDate,
    ListDates,
    ProposeDate,
    Suggestions,
    SuggestionsQuery,
)
from shared.problems import InvalidInput

router = APIRouter(prefix="/v1/relationships/{rid}/dates", tags=["dates"])


@router.post("", status_code=201, response_model=DateOut, responses=WRITE,
             summary="Propose a digital date (you accept it by proposing)")  # fmt: skip
async def propose(body: ProposeDate, ctx: Membership, request: Request) -> DateOut:
    return await rpc_of(request).call(
        body, context=ctx.call_context(), command_id=command_id(request, ctx.caller)
    )


async def _answer(answer: DateRef, ctx: Membership, request: Request) -> DateOut:
    return await rpc_of(request).call(
        answer, context=ctx.call_context(), command_id=command_id(request, ctx.caller)
    )


@router.post("/{date_id}/accept", response_model=DateOut, responses=WRITE,
             summary="Accept a date; it stands once every member accepted")  # fmt: skip
async def accept(date_id: EntryId, ctx: Membership, request: Request) -> DateOut:
    return await _answer(AcceptDate(date_id=date_id), ctx, request)


@router.post("/{date_id}/decline", response_model=DateOut, responses=WRITE,
             summary="Decline a date")  # fmt: skip
async def decline(date_id: EntryId, ctx: Membership, request: Request) -> DateOut:
    return await _answer(DeclineDate(date_id=date_id), ctx, request)


@router.get("", response_model=DateList, responses=AUTHED,
            summary="The dates, each in every member's local time")  # fmt: skip
async def list_dates(ctx: Membership, request: Request) -> DateList:
    return await rpc_of(request).call(ListDates(), context=ctx.call_context())


@router.get("/suggestions", response_model=Suggestions, responses=AUTHED,
            summary="Slots in every member's waking day and outside everyone's quiet hours, "
                    "the most evenly shared inconvenience first")  # fmt: skip
async def suggestions(
    ctx: Membership,
    request: Request,
    duration: Annotated[int, Query(ge=15, le=480)] = 60,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> Suggestions:
    start = start or datetime.now(UTC)
    end = end or start + timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give times with an offset (RFC 3339)", field="from")
    try:
        query = SuggestionsQuery(duration_minutes=duration, start=start, end=end)
    except ValueError as exc:
        raise InvalidInput(str(exc).splitlines()[-1].strip(), field="to") from exc
    return await rpc_of(request).call(query, context=ctx.call_context())
