"""Between entries as stored, as replied and as published: plain functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.envelope import Envelope, Visibility
from shared.messages.base import EventData, new_event
from shared.messages.checkin_rpc import Entry
from shared.mongo import Document


@dataclass
class Context:
    """Who acts where and when, as settled before any rule runs."""

    actor: str
    relationship_id: str
    members: frozenset[str]
    now: datetime
    command_id: str
    correlation_id: str | None
    key: bytes  # the actor's data key for this relationship


def entry_doc(
    ctx: Context,
    kind: str,
    entry_id: str,
    occurred_at: datetime,
    visibility: Visibility,
    fields: dict[str, Any],
    state: dict[str, Any] | None = None,
) -> Document:
    return {
        "_id": entry_id,
        "relationship_id": ctx.relationship_id,
        "kind": kind,
        "author_id": ctx.actor,
        "visibility": visibility.value,
        "occurred_at": occurred_at,
        "recorded_at": ctx.now,
        "fields": fields,
        "state": state or {},
        "version": 1,
    }


def view(document: Document, **state: Any) -> Entry:
    """The entry as replied to its viewer: its fields plus its current state."""
    return Entry(
        id=document["_id"],
        kind=document["kind"],
        relationship_id=document["relationship_id"],
        author_id=document["author_id"],
        visibility=Visibility(document["visibility"]),
        occurred_at=document["occurred_at"],
        recorded_at=document["recorded_at"],
        fields={**document["fields"], **document.get("state", {}), **state},
    )


def event(ctx: Context, data: EventData, visibility: Visibility, subject: str) -> Envelope:
    return new_event(
        data,
        relationship_id=ctx.relationship_id,
        actor_id=ctx.actor,
        visibility=visibility,
        subject=subject,
        correlation_id=ctx.correlation_id,
        causation_id=ctx.command_id,
        time=ctx.now,
    )
