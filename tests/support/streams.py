"""Reading back what really is on a JetStream stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.aio.client import Client
from nats.js.errors import ServiceUnavailableError


async def read_subject(client: Client, stream: str, subject: str) -> list[dict[str, Any]]:
    """Every message on `subject` in `stream`, oldest first, as decoded JSON plus its msg id."""
    js = client.jetstream()
    info = await js.stream_info(stream, subjects_filter=subject)
    total = sum((info.state.subjects or {}).values()) if info.state.subjects else 0
    if total == 0:
        return []
    sub = await js.pull_subscribe(subject, durable=None, stream=stream)
    found: list[dict[str, Any]] = []
    try:
        while len(found) < total:
            try:
                batch = await sub.fetch(total - len(found), timeout=2)
            except ServiceUnavailableError:  # on a cluster: the new consumer has no leader yet
                await asyncio.sleep(0.1)
                continue
            for message in batch:
                found.append(
                    {
                        **json.loads(message.data),
                        "_msg_id": message.headers["Nats-Msg-Id"],
                        "_stored_at": message.metadata.timestamp,  # when JetStream took it
                    }
                )
                await message.ack()
    finally:
        await sub.unsubscribe()
    return found
