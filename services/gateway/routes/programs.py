"""The trust-rebuilding program: proposed by one member, started once every member accepted,
run by the scheduler for six months."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.deps import Membership, command_id, rpc_of
from services.gateway.routes.errors import AUTHED, WRITE
from shared.messages.asks import Asks
from shared.messages.scheduler_rpc import (
    AcceptProgram,
    GetProgram,
    ProgramView,
    ProposeProgram,
    StopProgram,
)

router = APIRouter(prefix="/v1/relationships/{rid}/program", tags=["program"])


async def _change(command: Asks[ProgramView], ctx: Membership, request: Request) -> ProgramView:
    return await rpc_of(request).call(
        command, context=ctx.call_context(), command_id=command_id(request, ctx.caller)
    )


@router.get("", response_model=ProgramView, responses=AUTHED,
            summary="Status, current stage with its prompts, start and end")  # fmt: skip
async def show(ctx: Membership, request: Request) -> ProgramView:
    return await rpc_of(request).call(GetProgram(), context=ctx.call_context())


@router.post("", status_code=201, response_model=ProgramView, responses=WRITE,
             summary="Propose the program (you accept it by proposing)")  # fmt: skip
async def propose(ctx: Membership, request: Request) -> ProgramView:
    return await _change(ProposeProgram(), ctx, request)


@router.post("/accept", response_model=ProgramView, responses=WRITE,
             summary="Accept; the program starts once every member accepted")  # fmt: skip
async def accept(ctx: Membership, request: Request) -> ProgramView:
    return await _change(AcceptProgram(), ctx, request)


@router.delete("", status_code=204, responses=AUTHED, summary="Stop the program")
async def stop(ctx: Membership, request: Request) -> Response:
    await rpc_of(request).call(StopProgram(), context=ctx.call_context())
    return Response(status_code=204)
