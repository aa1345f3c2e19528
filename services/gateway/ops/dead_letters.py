"""Dead letters for operators: what failed, where and why - envelope metadata only, never bodies.

The queues are read through a headers-only consumer, so the gateway never even receives what a
member wrote; a redrive asks the event's owner to publish it back (shared/redrive.py) and then
removes the dead letter, so a second redrive finds nothing left to do.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.nats import (
    DLQ_CONSUMER_HEADER,
    DLQ_MSG_ID_HEADER,
    DLQ_REASON_HEADER,
    DLQ_SUBJECT_HEADER,
)
from shared.problems import AttuneError, NotFound
from shared.redrive import RedriveDeadLetter
from shared.rpc import CallContext, RpcClient
from shared.subjects import SERVICES, dead_letter_stream_name, parse_event_subject

# Enough for any queue an operator reads on a page; the counts say when there were more.
SCAN_LIMIT = 10_000
FETCH_BATCH = 500
GROUP_SEQUENCES = 100  # the oldest ones of a group, to show or redrive one by one


@dataclass(frozen=True)
class DeadLetter:
    service: str
    sequence: int
    consumer: str
    reason: str
    subject: str
    event_type: str
    owner: str
    message_id: str | None
    dead_lettered_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "sequence": self.sequence,
            "consumer": self.consumer,
            "reason": self.reason,
            "subject": self.subject,
            "event_type": self.event_type,
            "owner": self.owner,
            "message_id": self.message_id,
            "dead_lettered_at": self.dead_lettered_at.isoformat(),
        }


# A reason may name the subject it came on; its relationship id would split one cause into a
# group per relationship (and is no operator's business on a dashboard): it becomes `*`.
_RELATIONSHIP_IN_SUBJECT = re.compile(r"(\.evt\.)[A-Za-z0-9_-]{1,64}\.")


def grouping_reason(reason: str) -> str:
    return _RELATIONSHIP_IN_SUBJECT.sub(r"\1*.", reason)


def known_service(service: str) -> str:
    if service not in SERVICES:
        raise NotFound(f"there is no service called {service!r}", code="unknown_service")
    return service


def _letter(
    service: str, namespace: str, headers: dict[str, str], sequence: int, at: datetime
) -> DeadLetter:
    subject = headers.get(DLQ_SUBJECT_HEADER, "")
    try:
        owner, _, event_type = parse_event_subject(namespace, subject)
    except ValueError:
        owner, event_type = "unknown", "unknown"
    return DeadLetter(
        service=service,
        sequence=sequence,
        consumer=headers.get(DLQ_CONSUMER_HEADER, "unknown"),
        reason=grouping_reason(headers.get(DLQ_REASON_HEADER, "no reason given")),
        subject=subject,
        event_type=event_type,
        owner=owner,
        message_id=headers.get(DLQ_MSG_ID_HEADER),
        dead_lettered_at=at,
    )


async def scan(connection: Client, namespace: str, service: str) -> list[DeadLetter]:
    """Every dead letter of one service, oldest first, read headers-only."""
    js = connection.jetstream()
    stream = dead_letter_stream_name(namespace, service)
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return []  # that service has not started yet
    if not info.state.messages:
        return []
    subscription = await js.pull_subscribe(
        "",
        stream=stream,
        config=ConsumerConfig(
            headers_only=True,
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=10,
            mem_storage=True,
        ),
    )
    letters: list[DeadLetter] = []
    consumer = (await subscription.consumer_info()).name
    try:
        wanted = min(info.state.messages, SCAN_LIMIT)
        while len(letters) < wanted:
            try:
                batch = await subscription.fetch(min(FETCH_BATCH, wanted - len(letters)), 2)
            except TimeoutError:
                break  # some were deleted since the stream info was read
            for message in batch:
                meta = message.metadata
                at = meta.timestamp or datetime.now(UTC)
                letters.append(
                    _letter(
                        service, namespace, dict(message.headers or {}), meta.sequence.stream, at
                    )
                )
            if not batch or batch[-1].metadata.num_pending == 0:
                break
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
            await js.delete_consumer(stream, consumer)  # not left for the dashboard to list
    return letters


async def groups(connection: Client, namespace: str) -> list[dict[str, Any]]:
    """Dead letters per service, reason and event type: how many, first and last seen."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for service in SERVICES:
        for letter in await scan(connection, namespace, service):
            key = (service, letter.reason, letter.event_type)
            group = found.setdefault(
                key,
                {
                    "service": service,
                    "reason": letter.reason,
                    "event_type": letter.event_type,
                    "count": 0,
                    "first_seen": letter.dead_lettered_at,
                    "last_seen": letter.dead_lettered_at,
                    "consumers": set(),
                    "sequences": [],
                },
            )
            group["count"] += 1
            group["first_seen"] = min(group["first_seen"], letter.dead_lettered_at)
            group["last_seen"] = max(group["last_seen"], letter.dead_lettered_at)
            group["consumers"].add(letter.consumer)
            if len(group["sequences"]) < GROUP_SEQUENCES:
                group["sequences"].append(letter.sequence)
    return [
        {
            **g,
            "first_seen": g["first_seen"].isoformat(),
            "last_seen": g["last_seen"].isoformat(),
            "consumers": sorted(g["consumers"]),
        }
        for g in sorted(found.values(), key=lambda g: (-g["count"], g["service"], g["reason"]))
    ]


async def one(connection: Client, namespace: str, service: str, sequence: int) -> DeadLetter:
    for letter in await scan(connection, namespace, service):
        if letter.sequence == sequence:
            return letter
    raise NotFound(f"no dead letter {sequence} in {service}'s queue", code="dead_letter_not_found")


async def select(
    connection: Client,
    namespace: str,
    service: str,
    reason: str | None,
    sequence: int | None,
    event_type: str | None = None,
) -> list[DeadLetter]:
    """One letter by sequence, or those with `reason` (of `event_type` too, when given: one
    group of the listing)."""
    if sequence is not None:
        return [await one(connection, namespace, service, sequence)]
    letters = await scan(connection, namespace, service)
    return [
        letter
        for letter in letters
        if (reason is None or letter.reason == reason)
        and (event_type is None or letter.event_type == event_type)
    ]


async def redrive(
    connection: Client, rpc: RpcClient, namespace: str, letters: list[DeadLetter]
) -> dict[str, Any]:
    """Ask each letter's owner to publish it back; remove the ones that went out (or had)."""
    js = connection.jetstream()
    outcome: dict[str, Any] = {
        "selected": len(letters),
        "redriven": 0,
        "already_redriven": 0,
        "failed": [],
    }
    for letter in letters:
        if letter.owner not in SERVICES:
            outcome["failed"].append(
                {"sequence": letter.sequence, "reason": "its subject is not an event subject"}
            )
            continue
        try:
            result = await rpc.call(
                RedriveDeadLetter(service=letter.service, sequence=letter.sequence),
                service=letter.owner,
                context=CallContext(),
                command_id=f"redrive-{letter.service}-{letter.sequence}",
            )
        except AttuneError as exc:
            outcome["failed"].append({"sequence": letter.sequence, "reason": exc.message})
            continue
        outcome["redriven" if result.published else "already_redriven"] += 1
        with contextlib.suppress(NotFoundError):
            await js.delete_msg(dead_letter_stream_name(namespace, letter.service), letter.sequence)
    return outcome


async def purge(connection: Client, namespace: str, letters: list[DeadLetter]) -> int:
    js = connection.jetstream()
    removed = 0
    for letter in letters:
        with contextlib.suppress(NotFoundError):
            if await js.delete_msg(
                dead_letter_stream_name(namespace, letter.service), letter.sequence
            ):
                removed += 1
    return removed


async def purge_all(connection: Client, namespace: str, service: str) -> int:
    js = connection.jetstream()
    stream = dead_letter_stream_name(namespace, service)
    try:
        before = (await js.stream_info(stream)).state.messages
    except NotFoundError:
        return 0
    await js.purge_stream(stream)
    return before
