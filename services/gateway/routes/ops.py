"""The ops dashboard and its figures, behind the operator token (and opening nothing else)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.deps import rpc_of, runtime_of, settings_of
from services.gateway.ops.summary import summary
from services.gateway.routes.errors import problems
from shared.problems import Unauthorized

router = APIRouter(prefix="/ops", tags=["operations"])
PAGE = (Path(__file__).resolve().parent.parent / "ops" / "page.html").read_text()


def require_operator(request: Request) -> None:
    expected = settings_of(request).ops_token
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    given = given or request.query_params.get("token", "")
    # As bytes: compare_digest refuses non-ASCII text, which must be a wrong token, not a 500.
    if expected is None or not secrets.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized("the operator token is required", code="operator_token_required")


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
    return await summary(runtime_of(request), rpc_of(request))
