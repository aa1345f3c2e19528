"""What a service tells about itself: `/healthz` (alive), `/readyz` (NATS, MongoDB and its
consumers bound), `/metrics` (Prometheus), its answer to `Ping`, and the server that runs it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.logging import configure_logging
from shared.rpc import Pong
from shared.settings import BaseServiceSettings

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

try:
    VERSION = version("attune")
except PackageNotFoundError:  # run from a checkout without installing
    VERSION = "dev"


async def pong(runtime: ServiceRuntime) -> Pong:
    # The last sampled figure (shared/gauges.py): a ping never waits on MongoDB.
    sampled = REGISTRY.get_sample_value("attune_outbox_pending_events")
    pending = int(sampled) if runtime.relay is not None and sampled is not None else None
    return Pong(service=runtime.name, ready=await runtime.ready(), version=VERSION,
                uptime_seconds=round(time.monotonic() - runtime.started_at, 1),
                outbox_pending=pending)  # fmt: skip


def http_face(runtime: ServiceRuntime) -> Starlette:
    """The service's small HTTP app; its lifespan starts and stops the runtime."""

    async def healthz(_request: HttpRequest) -> Response:
        return JSONResponse({"status": "ok", "service": runtime.name})

    async def readyz(_request: HttpRequest) -> Response:
        checks = await runtime.checks()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    async def metrics(_request: HttpRequest) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )


def serve(app: Any, settings: BaseServiceSettings) -> None:
    """Run an ASGI app until SIGINT/SIGTERM, then shut down gracefully."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
    )
