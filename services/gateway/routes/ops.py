"""The ops dashboard and its figures, behind the operator token (and opening nothing else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.deps import require_operator, rpc_of, runtime_of
from services.gateway.ops.summary import summary
from services.gateway.routes.errors import problems

router = APIRouter(prefix="/ops", tags=["operations"])
PAGE = (Path(__file__).resolve().parent.parent / "ops" / "page.html").read_text()


@router.get("", response_class=HTMLResponse, responses=problems(401),
            summary="The ops dashboard (HTML); pass the operator token as ?token=")  # fmt: skip
async def page(request: Request) -> HTMLResponse:
    require_operator(request)
    return HTMLResponse(
        PAGE, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


@router.get("/summary", responses=problems(401), summary="The dashboard's figures as JSON")
async def figures(request: Request) -> dict[str, Any]:
    require_operator(request)
    return await summary(runtime_of(request), rpc_of(request), request.app.state.lag_history)
