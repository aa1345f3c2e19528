"""Wiring of the scheduler service: broker, consumers, responders, lifespan."""

from __future__ import annotations

from starlette.applications import Starlette

from services.scheduler import handlers
from services.scheduler.settings import SchedulerSettings
from shared.runtime import ServiceRuntime


def create_runtime(settings: SchedulerSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or SchedulerSettings())
    handlers.wire(runtime)
    return runtime


def create_app(settings: SchedulerSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
