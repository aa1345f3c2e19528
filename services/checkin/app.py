"""Wiring of the checkin service: broker, consumers, responders, lifespan."""

from __future__ import annotations

from starlette.applications import Starlette

from services.checkin import handlers
from services.checkin.settings import CheckinSettings
from shared.runtime import ServiceRuntime


def create_runtime(settings: CheckinSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or CheckinSettings())
    handlers.wire(runtime)
    return runtime


def create_app(settings: CheckinSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
