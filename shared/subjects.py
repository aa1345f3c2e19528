"""Subject and stream naming: `<ns>.<owner>.evt.<relationship>.<type>` and friends.

The owner comes first so a service's stream captures only its own events; the
relationship comes before the type so one relationship's events keep their order
and a consumer can filter by owner, relationship or type with one wildcard.
"""

from __future__ import annotations

import re

SERVICES = ("checkin", "scheduler", "insights", "gateway")

# Events about a member rather than a relationship (profile changes, erasure)
# carry this token where the relationship id would be.
NO_RELATIONSHIP = "_"

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


def _token(value: str, what: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} {value!r} cannot be used in a subject")
    return value


def event_subject(namespace: str, owner: str, relationship_id: str | None, event_type: str) -> str:
    if not _TYPE.fullmatch(event_type):
        raise ValueError(f"event type {event_type!r} is not dotted lower case")
    rel = NO_RELATIONSHIP if relationship_id is None else _token(relationship_id, "relationship id")
    return f"{namespace}.{_token(owner, 'owner')}.evt.{rel}.{event_type}"


def owner_events(namespace: str, owner: str) -> str:
    """Every event one service owns (its stream's subject filter)."""
    return f"{namespace}.{owner}.evt.>"


def events_of_type(namespace: str, owner: str, event_type: str) -> str:
    """One type of `owner`'s events, whatever relationship they are about."""
    if not _TYPE.fullmatch(event_type):
        raise ValueError(f"event type {event_type!r} is not dotted lower case")
    return f"{namespace}.{_token(owner, 'owner')}.evt.*.{event_type}"


def relationship_events(namespace: str, owner: str, relationship_id: str) -> str:
    return f"{namespace}.{owner}.evt.{_token(relationship_id, 'relationship id')}.>"


def parse_event_subject(namespace: str, subject: str) -> tuple[str, str, str]:
    """Split an event subject into (owner, relationship id, type)."""
    parts = subject.split(".")
    if len(parts) < 5 or parts[0] != namespace or parts[2] != "evt":
        raise ValueError(f"{subject!r} is not an event subject of {namespace!r}")
    return parts[1], parts[3], ".".join(parts[4:])


def command_subject(namespace: str, service: str, name: str) -> str:
    return f"{namespace}.cmd.{_token(service, 'service')}.{_token(name, 'command')}"


def query_subject(namespace: str, service: str, name: str) -> str:
    return f"{namespace}.qry.{_token(service, 'service')}.{_token(name, 'query')}"


def relay_wake_subject(namespace: str, service: str) -> str:
    """Core NATS (no stream): a replica whose relay could not take the lease asks the one
    holding it to publish now."""
    return f"{namespace}.wake.{_token(service, 'service')}"


def access_subject(namespace: str) -> str:
    """Core NATS (no stream; outside the gateway's `evt` subjects): a gateway replica that
    revoked a token or changed a membership tells the others what to forget."""
    return f"{namespace}.gateway.access"


def dead_letter_subject(namespace: str, service: str) -> str:
    return f"{namespace}.dlq.{_token(service, 'service')}"


def database_name(namespace: str, service: str) -> str:
    """Each service keeps its data in a database of its own."""
    return f"{namespace}_{_token(service, 'service')}"


def stream_name(namespace: str, owner: str) -> str:
    return f"{namespace}_{owner}".upper()


def dead_letter_stream_name(namespace: str, service: str) -> str:
    return f"{namespace}_dlq_{service}".upper()


def inbox_prefix(namespace: str, service: str) -> str:
    """Each service's replies arrive under its own prefix, and only it may subscribe there."""
    return f"_INBOX.{namespace}.{service}"


# Every durable consumer, per service: (owning stream, purpose). The bus lets a service use
# exactly these (deploy/nats_auth.py); a consumer not declared here is refused at wiring.
CONSUMERS: dict[str, tuple[tuple[str, str], ...]] = {
    "checkin": (("gateway", "membership"), ("gateway", "erasure")),
    "scheduler": (
        ("gateway", "membership"), ("gateway", "erasure"), ("gateway", "schedules"),
        ("checkin", "schedules"), ("insights", "backoff"),
    ),
    "insights": (
        ("gateway", "membership"), ("gateway", "erasure"), ("checkin", "aggregates"),
        ("scheduler", "aggregates"), ("gateway", "zones"),
    ),
    "gateway": tuple(
        (owner, purpose) for purpose in ("ops", "erasures", "webhooks") for owner in SERVICES
    ),
}  # fmt: skip


def durable_name(service: str, purpose: str, owner: str) -> str:
    return f"{service}-{purpose}-{owner}"
