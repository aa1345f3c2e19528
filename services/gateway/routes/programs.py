"""The trust-rebuilding program: started and stopped per relationship, run by the scheduler."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from services.gateway.deps import Membership, rpc_of
from services.gateway.routes.errors import AUTHED, WRITE
from shared.rpc import Empty

router = APIRouter(prefix="/v1/relationships/{rid}/programs", tags=["programs"])


class ProgramOut(BaseModel):
    program: str = "trust_rebuilding"
    status: str


@router.post(
    "/trust-rebuilding", status_code=202, response_model=ProgramOut, responses=WRITE,
    summary="Start the trust-rebuilding program: staged milestones and prompts over months",
)  # fmt: skip
async def start(ctx: Membership, request: Request) -> ProgramOut:
    await rpc_of(request).call(
        "cmd", "scheduler", "start_program", Empty(), Empty, context=ctx.call_context()
    )
    return ProgramOut(status="started")


@router.delete("/trust-rebuilding", status_code=204, responses=AUTHED, summary="Stop the program")
async def stop(ctx: Membership, request: Request) -> Response:
    await rpc_of(request).call(
        "cmd", "scheduler", "stop_program", Empty(), Empty, context=ctx.call_context()
    )
    return Response(status_code=204)
