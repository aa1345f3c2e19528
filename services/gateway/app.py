"""Wiring of the gateway: FastAPI app, its broker and consumers, started in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.gateway import openapi, store, web
from services.gateway.access import Access
from services.gateway.auth import PasswordPool
from services.gateway.deps import TokenBucket
from services.gateway.middleware import BodyLimit, Correlation, Idempotency, JsonBody, Metrics
from services.gateway.ops import dead_letter_routes
from services.gateway.ops import events as ops_events
from services.gateway.ops.lag_history import LagHistory
from services.gateway.problems import install_problem_handlers
from services.gateway.routes import (
    accounts,
    contract,
    dates,
    facts,
    health,
    insights,
    ops,
    programs,
    relationships,
    reviews,
    stream,
    webhooks,
)
from services.gateway.routes.stream import StreamCounter
from services.gateway.settings import GatewaySettings
from services.gateway.webhooks.delivery import Deliveries, start_dispatching, webhook_key
from shared import telemetry
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
    lag_history = LagHistory()

    async def sample_lag(rt: ServiceRuntime) -> None:
        rt.spawn(lag_history.run(rt.broker.connection, settings.namespace))

    runtime.on_startup(sample_lag)
    deliveries = Deliveries(runtime, settings)
    deliveries.wire()
    start_dispatching(runtime, deliveries)
    access = Access(settings.access_cache_seconds, settings.access_cache_entries)
    access.wire(runtime)

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
    app.state.access = access
    app.state.lag_history = lag_history
    app.state.rpc = RpcClient(runtime.broker, settings.namespace, settings.request_timeout_seconds)
    keys = settings.rate_limit_keys
    app.state.member_limits = TokenBucket(settings.rate_per_second, settings.rate_burst, keys)
    app.state.anonymous_limits = TokenBucket(
        settings.anonymous_rate_per_second, settings.anonymous_rate_burst, keys
    )
    app.state.invalid_token_limits = TokenBucket(
        settings.invalid_token_rate_per_second, settings.invalid_token_rate_burst, keys
    )
    app.state.account_limits = TokenBucket(
        settings.account_rate_per_second, settings.account_rate_burst, keys
    )
    app.state.passwords = PasswordPool(settings.password_workers, settings.password_queue)
    app.state.streams = StreamCounter(settings.max_streams_per_member)
    install_problem_handlers(app)
    for router in (
        health.router,
        contract.router,
        accounts.router,
        relationships.router,
        facts.router,
        facts.views,
        insights.router,
        stream.router,
        programs.router,
        dates.router,
        reviews.router,
        webhooks.router,
        ops.router,
        dead_letter_routes.router,
    ):
        app.include_router(router)
    web.mount(app, settings.web_dir)
    openapi.install(app)
    # Added innermost first: metrics see everything; the body limit, then the JSON check, run
    # before idempotency, so a refused body never holds a key.
    app.add_middleware(
        Idempotency,
        db=lambda: runtime.db,
        routes=lambda: app.router.routes,
        secret=webhook_key(settings),
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
    telemetry.instrument_app(app, settings.service_name)  # outermost: the request's own span
    return app
