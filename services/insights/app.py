"""Wiring of the insights service: broker, consumers, responders, lifespan."""

from __future__ import annotations

from starlette.applications import Starlette

from services.insights import handlers
from services.insights.settings import InsightsSettings
from shared.runtime import ServiceRuntime


def create_runtime(settings: InsightsSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or InsightsSettings())
    handlers.wire(runtime)
    return runtime


def create_app(settings: InsightsSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
