"""Event payload base class, the registry of known (type, version) pairs, encode and decode."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.envelope import Envelope, Visibility, new_id, utcnow
from shared.subjects import event_subject


class EventData(BaseModel):
    """Payload of one event type at one version. Readers ignore unknown fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    owner: ClassVar[str]
    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1


# Our largest event (a check-in with every text field at its cap, sealed) is a few tens of KiB;
# anything far past that is not one of ours, and is refused before it is parsed.
MAX_EVENT_BYTES = 256 * 1024


class InvalidEvent(ValueError):
    """The bytes are not an event we can ever process; dead-letter them with this reason."""


class UnknownEventType(InvalidEvent):
    """A type this build does not know: skipped and counted, never crashed on."""


class UnsupportedEventVersion(InvalidEvent):
    """A known type at a version this build cannot read (and cannot upcast)."""


@dataclass(frozen=True)
class DecodedEvent:
    envelope: Envelope
    data: EventData
    # The trace context its message carried (W3C headers), where a consumer keeps it for
    # work done later on its behalf (a webhook delivery).
    trace: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.envelope.id


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_MODELS: dict[tuple[str, int], type[EventData]] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register(model: type[EventData]) -> type[EventData]:
    """Class decorator: make a payload model known to `decode`."""
    key = (model.event_type, model.event_version)
    if key in _MODELS and _MODELS[key] is not model:
        raise RuntimeError(f"event {key} registered twice")
    _MODELS[key] = model
    return model


def register_upcaster(event_type: str, from_version: int, upcaster: Upcaster) -> None:
    """Teach readers to lift `from_version` data to `from_version + 1`."""
    _UPCASTERS[(event_type, from_version)] = upcaster


def known_events() -> dict[tuple[str, int], type[EventData]]:
    return dict(_MODELS)


def model_for(event_type: str, version: int) -> type[EventData]:
    if (event_type, version) in _MODELS:
        return _MODELS[(event_type, version)]
    versions = sorted(v for (t, v) in _MODELS if t == event_type)
    if not versions:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    raise UnsupportedEventVersion(
        f"event type {event_type!r} has no version {version}; this build reads "
        f"versions {', '.join(map(str, versions))}"
    )


def _upcast(event_type: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    while (event_type, version) not in _MODELS and (event_type, version) in _UPCASTERS:
        data = _UPCASTERS[(event_type, version)](data)
        version += 1
    return version, data


def decode(raw: bytes | str) -> DecodedEvent:
    """Parse and validate one event; raise InvalidEvent (or a subclass) with a readable reason."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"body is {len(raw)} bytes, over the {MAX_EVENT_BYTES}-byte limit")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidEvent("body is nested too deeply to be an event") from exc
    if not isinstance(document, dict):
        raise InvalidEvent("body is not a JSON object")
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope invalid: {_summarise(exc)}") from exc
    version, data = _upcast(envelope.type, envelope.version, envelope.data)
    model = model_for(envelope.type, version)
    if envelope.owner != model.owner:
        raise InvalidEvent(f"{envelope.type} events come from {model.owner}, not {envelope.source}")
    try:
        payload = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"{envelope.type} v{version} data invalid: {_summarise(exc)}") from exc
    return DecodedEvent(envelope=envelope, data=payload)


def _summarise(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def new_event(
    data: EventData,
    *,
    relationship_id: str | None,
    actor_id: str | None,
    visibility: Visibility = Visibility.SHARED,
    subject: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap a payload in its envelope. Pass `event_id` to derive the id deterministically."""
    model = type(data)
    return Envelope(
        id=event_id or new_id(),
        source=f"attune/{model.owner}",
        type=model.event_type,
        version=model.event_version,
        dataschema=f"urn:attune:event:{model.event_type}:v{model.event_version}",
        time=time or utcnow(),
        subject=subject,
        relationship_id=relationship_id,
        actor_id=actor_id,
        visibility=visibility,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=data.model_dump(mode="json"),
    )


def subject_of(namespace: str, envelope: Envelope) -> str:
    """The subject an event is published on, derived from its owner and type."""
    try:
        return event_subject(namespace, envelope.owner, envelope.relationship_id, envelope.type)
    except ValueError as exc:  # a relationship id no subject can hold
        raise InvalidEvent(str(exc)) from exc
