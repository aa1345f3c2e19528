"""The trust-rebuilding program: proposed by one member, started once every member accepted,
run by the scheduler for six months."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.deps import Membership, command_id, rpc_of
from services.gateway.routes.errors import AUTHED, WRITE
from shared.messages.scheduler_rpc import ProgramView
from shared.rpc import Empty

router = APIRouter(prefix="/v1/relationships/{rid}/program", tags=["program"])


async def _call(kind: str, name: str, ctx: Membership, request: Request) -> ProgramView:
    rpc = rpc_of(request)
    if kind == "qry":
        return await rpc.call("qry", "scheduler", name, Empty(), ProgramView,
                              context=ctx.call_context())  # fmt: skip
    return await rpc.call("cmd", "scheduler", name, Empty(), ProgramView,
                          context=ctx.call_context(),
                          command_id=command_id(request, ctx.caller))  # fmt: skip


@router.get("", response_model=ProgramView, responses=AUTHED,
            summary="Status, current stage with its prompts, start and end")  # fmt: skip
async def show(ctx: Membership, request: Request) -> ProgramView:
    return await _call("qry", "program", ctx, request)


@router.post("", status_code=201, response_model=ProgramView, responses=WRITE,
             summary="Propose the program (you accept it by proposing)")  # fmt: skip
async def propose(ctx: Membership, request: Request) -> ProgramView:
    return await _call("cmd", "propose_program", ctx, request)


@router.post("/accept", response_model=ProgramView, responses=WRITE,
             summary="Accept; the program starts once every member accepted")  # fmt: skip
async def accept(ctx: Membership, request: Request) -> ProgramView:
    return await _call("cmd", "accept_program", ctx, request)


@router.delete("", status_code=204, responses=AUTHED, summary="Stop the program")
async def stop(ctx: Membership, request: Request) -> Response:
    await rpc_of(request).call(
        "cmd", "scheduler", "stop_program", Empty(), Empty, context=ctx.call_context()
    )
    return Response(status_code=204)
