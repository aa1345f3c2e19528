"""One function per message the insights service handles."""

from __future__ import annotations

from shared.messages.base import DecodedEvent
from shared.runtime import ServiceRuntime


def wire(runtime: ServiceRuntime) -> None:
    runtime.keep_membership()
    # Facts and ritual misses feed the aggregates; the durable consumers exist
    # from the start so no event is missed before the rules arrive.
    runtime.consume("checkin", "aggregates", on_signal_input)
    runtime.consume("scheduler", "aggregates", on_signal_input)


async def on_signal_input(event: DecodedEvent) -> None:
    """Accepted and acknowledged; the insights issue gives these events their effect."""
