"""Reading back what really is on a JetStream stream."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.js.errors import NotFoundError, ServiceUnavailableError


async def read_subject(client: Client, stream: str, subject: str) -> list[dict[str, Any]]:
    """Every message on `subject` in `stream`, oldest first, as decoded JSON plus its msg id.

    Read by direct get, message by message: no consumer is created, so any user allowed to
    read the stream's messages can look (a service user may not open consumers of its own)."""
    js = client.jetstream()
    info = await js.stream_info(stream, subjects_filter=subject)
    total = sum((info.state.subjects or {}).values()) if info.state.subjects else 0
    found: list[dict[str, Any]] = []
    seq = 1
    while len(found) < total:
        try:
            message = await js.get_msg(stream, seq, subject=subject, next=True)
        except NotFoundError:
            break  # deleted since the count was taken
        except ServiceUnavailableError:  # on a cluster: the stream has no leader yet
            await asyncio.sleep(0.1)
            continue
        assert message.seq is not None and message.data is not None
        found.append(
            {
                **json.loads(message.data),
                "_msg_id": (message.headers or {}).get("Nats-Msg-Id"),
                "_stored_at": _stored_at(message.time),  # when JetStream took it
            }
        )
        seq = message.seq + 1
    return found


def _stored_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).rstrip("Z")
    whole, _, fraction = text.partition(".")
    return datetime.fromisoformat(
        f"{whole}.{fraction[:6].ljust(6, '0')}" if fraction else whole
    ).replace(tzinfo=UTC)
