"""Wiring of the gateway: FastAPI app, its broker and consumers, started in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.gateway import openapi, store
from services.gateway.deps import TokenBucket
from services.gateway.middleware import BodyLimit, Correlation, Idempotency, JsonBody, Metrics
from services.gateway.ops import events as ops_events
from services.gateway.problems import install_problem_handlers
from services.gateway.routes import (
    accounts,
    facts,
    health,
    ops,
    programs,
    relationships,
    stream,
    webhooks,
)
from services.gateway.settings import GatewaySettings
from services.gateway.webhooks.delivery import Deliveries, start_dispatching, webhook_key
from shared.rpc import RpcClient
from shared.runtime import ServiceRuntime

DESCRIPTION = """
Attune's public API. Authenticate with `Authorization: Bearer <token>` from
`POST /v1/auth/token`. Every error is `application/problem+json` with a stable
`code`. Bodies are JSON in UTF-8 (`application/json`): another media type is
`415`, JSON that is not plain UTF-8 text with finite numbers and unique keys is
`422`. Every POST accepts an `Idempotency-Key`: a repeat with the same key and
body returns the first response and writes nothing. Private entries are only
ever shown to their author.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    webhook_key(settings)  # refuse to start in production without one
    runtime = ServiceRuntime(settings)
    ops_events.wire(runtime)
    deliveries = Deliveries(runtime, settings)
    deliveries.wire()
    start_dispatching(runtime, deliveries)

    async def indexes(rt: ServiceRuntime) -> None:
        await store.ensure_indexes(rt.db, timedelta(hours=settings.idempotency_ttl_hours))

    runtime.on_startup(indexes)

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
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.deliveries = deliveries
    app.state.rpc = RpcClient(runtime.broker, settings.namespace, settings.request_timeout_seconds)
    app.state.member_limits = TokenBucket(settings.rate_per_second, settings.rate_burst)
    app.state.anonymous_limits = TokenBucket(
        settings.anonymous_rate_per_second, settings.anonymous_rate_burst
    )
    install_problem_handlers(app)
    for router in (
        health.router,
        accounts.router,
        relationships.router,
        facts.router,
        facts.views,
        stream.router,
        programs.router,
        webhooks.router,
        ops.router,
    ):
        app.include_router(router)
    openapi.install(app)
    # Added innermost first: metrics see everything; the body limit, then the JSON check, run
    # before idempotency, so a refused body never holds a key.
    app.add_middleware(
        Idempotency,
        db=lambda: runtime.db,
        abandoned_after=timedelta(seconds=settings.idempotency_abandoned_seconds),
        # A fact's command id comes from the key and its document replays the answer: the
        # gateway keeps no record of its own for these.
        answered_downstream=[
            route.path_regex
            for route in facts.router.routes
            if isinstance(route, APIRoute) and "POST" in (route.methods or ())
        ],
    )
    app.add_middleware(JsonBody)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Correlation)
    app.add_middleware(Metrics)
    return app
