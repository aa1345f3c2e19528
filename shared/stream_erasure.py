"""Erasure on JetStream: a service deletes what it published about an erased member.

Events live on a service's stream for a long time (max age of a year). Sealing the free
text under the member's key shreds the text when the key goes, but the other fields
(mood, needs, touch kinds) would stay readable; so each service deletes, message by
message, every event on its own stream that mentions the member (anywhere but a
membership list), in every relationship they were ever in, and every message of its
dead-letter stream that mentions them (JetStream overwrites a deleted message's
storage). A relationship's erasure purges its subjects. The events that carry an erasure
to the other services stay: they hold ids only, and removing them could keep a lagging
service from ever hearing of the erasure.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.envelope import Envelope
from shared.subjects import (
    NO_RELATIONSHIP,
    dead_letter_stream_name,
    dead_letter_subject,
    relationship_events,
    stream_name,
)
from shared.tombstones import carries_erasure, members_mentioned

Doomed = Callable[[bytes, dict[str, str]], bool]


async def delete_matching(js: JetStreamContext, stream: str, subject: str, doomed: Doomed) -> int:
    """Delete every message on `subject` in `stream` that `doomed` picks; how many went."""
    deleted, sequence = 0, 1
    while True:
        try:
            message = await js.get_msg(stream, sequence, subject=subject, next=True)
        except NotFoundError:
            return deleted
        if message.seq is None:
            return deleted
        if doomed(message.data or b"", dict(message.headers or {})):
            await js.delete_msg(stream, message.seq)
            deleted += 1
        sequence = message.seq + 1


def names_member(member_id: str) -> Doomed:
    def doomed(data: bytes, _headers: dict[str, str]) -> bool:
        try:
            envelope = Envelope.model_validate_json(data)
        except ValueError:
            return member_id.encode() in data
        return not carries_erasure(envelope.type) and member_id in members_mentioned(envelope)

    return doomed


def mentions(token: str) -> Doomed:
    """For dead letters, which may be anything: any mention in the body or the subject."""

    def doomed(data: bytes, headers: dict[str, str]) -> bool:
        return token.encode() in data or any(token in v for v in headers.values())

    return doomed


async def erase_member_messages(
    js: JetStreamContext, namespace: str, service: str, member_id: str,
    relationship_ids: list[str], owns_events: bool = True,
) -> int:  # fmt: skip
    deleted = 0
    if owns_events:
        stream = stream_name(namespace, service)
        subjects = [relationship_events(namespace, service, rid) for rid in relationship_ids]
        subjects.append(f"{namespace}.{service}.evt.{NO_RELATIONSHIP}.>")
        for subject in subjects:
            deleted += await delete_matching(js, stream, subject, names_member(member_id))
    deleted += await delete_matching(
        js, dead_letter_stream_name(namespace, service), dead_letter_subject(namespace, service),
        mentions(member_id),
    )  # fmt: skip
    return deleted


async def erase_relationship_messages(
    js: JetStreamContext, namespace: str, service: str, relationship_id: str,
    owns_events: bool = True,
) -> None:  # fmt: skip
    if owns_events:
        await js.purge_stream(
            stream_name(namespace, service),
            subject=relationship_events(namespace, service, relationship_id),
        )
    await delete_matching(
        js, dead_letter_stream_name(namespace, service), dead_letter_subject(namespace, service),
        mentions(relationship_id),
    )  # fmt: skip
