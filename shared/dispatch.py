"""Consumers registered by event type: `{RitualCreated: on_ritual_created, ...}`.

A consumer sees every event on its owner's stream; the table says which types it acts on,
so a reader finds each event's function by its model instead of following an
`isinstance` chain. Events of other types are acknowledged and left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from shared.messages.base import DecodedEvent, EventData

EventFunction = Callable[[DecodedEvent], Awaitable[None]]


def by_event_type(table: Mapping[type[EventData], EventFunction]) -> EventFunction:
    """One function per event type (exact type; list a subclass on its own line)."""

    async def dispatch(event: DecodedEvent) -> None:
        handle = table.get(type(event.data))
        if handle is not None:
            await handle(event)

    return dispatch


def wanted(
    table: Mapping[type[EventData], object], events: list[DecodedEvent]
) -> list[DecodedEvent]:
    """The events of a batch that the table names."""
    return [event for event in events if type(event.data) in table]
