"""Members' answers to their insights: a word on a flag, a recommendation dismissed or done."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response

from services.gateway.deps import Membership, rpc_of
from services.gateway.routes.errors import WRITE
from services.gateway.schemas import FlagResponseIn
from shared.messages.views_rpc import AnswerRecommendation, RespondToFlag
from shared.messages.vocabulary import FlagCode

router = APIRouter(prefix="/v1/relationships/{rid}/insights", tags=["views"])
RecommendationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,100}$", max_length=100)]


@router.post(
    "/flags/{code}/response", status_code=204, response_class=Response, responses=WRITE,
    summary="Answer a relationship-wide flag: agree or see it differently (once per raising; "
    "the note is sealed and shown to all members)",
)  # fmt: skip
async def respond_to_flag(
    code: FlagCode, body: FlagResponseIn, ctx: Membership, request: Request
) -> Response:
    payload = RespondToFlag(code=code, **body.model_dump(exclude_unset=True))
    await rpc_of(request).call(payload, context=ctx.call_context())
    return Response(status_code=204)


async def _answer(
    request: Request, ctx: Membership, rec_id: str, answer: Literal["dismissed", "done"]
) -> Response:
    payload = AnswerRecommendation(recommendation_id=rec_id, answer=answer)
    await rpc_of(request).call(payload, context=ctx.call_context())
    return Response(status_code=204)


@router.post(
    "/recommendations/{rec_id}/dismiss", status_code=204, response_class=Response,
    responses=WRITE, summary="Dismiss a recommendation: it never comes back for you",
)  # fmt: skip
async def dismiss(rec_id: RecommendationId, ctx: Membership, request: Request) -> Response:
    return await _answer(request, ctx, rec_id, "dismissed")


@router.post(
    "/recommendations/{rec_id}/done", status_code=204, response_class=Response,
    responses=WRITE, summary="Mark a recommendation done: it counts as an exercise",
)  # fmt: skip
async def done(rec_id: RecommendationId, ctx: Membership, request: Request) -> Response:
    return await _answer(request, ctx, rec_id, "done")
