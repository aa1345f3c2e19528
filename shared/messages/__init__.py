"""Every event model; importing this package registers them all for `decode`."""

from shared.messages import checkin, gateway, insights, scheduler
from shared.messages.base import (
    DecodedEvent,
    EventData,
    InvalidEvent,
    UnknownEventType,
    UnsupportedEventVersion,
    decode,
    known_events,
    new_event,
    subject_of,
)

__all__ = [
    "DecodedEvent",
    "EventData",
    "InvalidEvent",
    "UnknownEventType",
    "UnsupportedEventVersion",
    "checkin",
    "decode",
    "gateway",
    "insights",
    "known_events",
    "new_event",
    "scheduler",
    "subject_of",
]
