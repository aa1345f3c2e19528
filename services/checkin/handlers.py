"""One function per message the checkin service handles."""

from __future__ import annotations

from shared.runtime import ServiceRuntime


def wire(runtime: ServiceRuntime) -> None:
    """Commands and queries for the facts arrive with the checkin issue; membership comes now."""
    runtime.keep_membership()
