"""One function per message the scheduler handles."""

from __future__ import annotations

from shared.messages.base import DecodedEvent
from shared.runtime import ServiceRuntime


def wire(runtime: ServiceRuntime) -> None:
    runtime.keep_membership()
    # Rituals, outcomes and burnout flags drive schedules; the durable consumers
    # exist from the start so no event is missed before their handlers grow.
    runtime.consume("checkin", "schedules", on_schedule_input)
    runtime.consume("insights", "backoff", on_schedule_input)


async def on_schedule_input(event: DecodedEvent) -> None:
    """Accepted and acknowledged; the scheduler issue gives these events their effect."""
