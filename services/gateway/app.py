"""Wiring of the gateway: FastAPI app, its broker and consumers, started in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.gateway.ops import events as ops_events
from services.gateway.problems import install_problem_handlers
from services.gateway.routes import health
from services.gateway.settings import GatewaySettings
from shared.rpc import RpcClient
from shared.runtime import ServiceRuntime


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = ServiceRuntime(settings)
    ops_events.wire(runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # FastStream's FastAPI plugin is deprecated: the broker starts here instead.
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Attune API",
        version="1.0.0",
        summary="Build closeness as a daily practice: check-ins, bids, rituals and insights.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.rpc = RpcClient(runtime.broker, settings.namespace, settings.request_timeout_seconds)
    install_problem_handlers(app)
    app.include_router(health.router)
    return app
