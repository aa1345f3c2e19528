"""The monthly review: when it comes (per relationship) and what each month looked like."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.gateway.deps import EntryId, Membership, command_id, rpc_of
from services.gateway.routes.errors import AUTHED, WRITE
from shared.messages.scheduler_rpc import (
    ListReviews,
    ReviewList,
    ReviewOut,
    ReviewRef,
    ReviewSettings,
    ReviewSettingsOut,
)

router = APIRouter(prefix="/v1/relationships/{rid}/reviews", tags=["reviews"])


@router.patch("/settings", response_model=ReviewSettingsOut, responses=WRITE,
              summary="When the monthly review comes: day of month and local time (it then moves "
                      "out of every member's quiet hours)")  # fmt: skip
async def settings(body: ReviewSettings, ctx: Membership, request: Request) -> ReviewSettingsOut:
    return await rpc_of(request).call(
        body, context=ctx.call_context(), command_id=command_id(request, ctx.caller)
    )


@router.get(
    "", response_model=ReviewList, responses=AUTHED, summary="Monthly reviews, newest first"
)
async def list_reviews(ctx: Membership, request: Request) -> ReviewList:
    return await rpc_of(request).call(ListReviews(), context=ctx.call_context())


@router.get("/{review_id}", response_model=ReviewOut, responses=AUTHED,
            summary="One month, as its members may see it")  # fmt: skip
async def one(review_id: EntryId, ctx: Membership, request: Request) -> ReviewOut:
    found = await rpc_of(request).call(ReviewRef(review_id=review_id), context=ctx.call_context())
    return found.reviews[0]
