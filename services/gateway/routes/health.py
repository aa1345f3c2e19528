"""Liveness, readiness (NATS, MongoDB and every service answering) and metrics (operator
token only)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.gateway.deps import require_operator
from services.gateway.routes.errors import problems
from shared.problems import AttuneError
from shared.rpc import CallContext, Ping, RpcClient
from shared.runtime import ServiceRuntime

router = APIRouter(tags=["operations"])

BACKEND_SERVICES = ("checkin", "scheduler", "insights")


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _service_ready(rpc: RpcClient, service: str, timeout: float) -> bool:
    try:
        pong = await rpc.call(Ping(), service=service, context=CallContext(), timeout=timeout)
    except AttuneError:
        return False
    return pong.ready


@router.get(
    "/readyz",
    summary="Readiness: NATS and MongoDB reachable, every service answering",
    responses={503: {"description": "A dependency is not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    runtime: ServiceRuntime = request.app.state.runtime
    rpc: RpcClient = request.app.state.rpc
    timeout = request.app.state.settings.readiness_timeout_seconds
    checks = await runtime.checks()
    answers = await asyncio.gather(
        *(_service_ready(rpc, service, timeout) for service in BACKEND_SERVICES)
    )
    checks.update({f"service:{s}": ok for s, ok in zip(BACKEND_SERVICES, answers, strict=True)})
    ready = all(checks.values())
    headers = {} if ready else {"Retry-After": "2"}
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
        headers=headers,
    )


@router.get(
    "/metrics", response_class=Response, responses=problems(401),
    summary="Prometheus metrics, operator token only (per-route counts would show when "
    "members write)",
)  # fmt: skip
async def metrics(request: Request) -> Response:
    require_operator(request)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
