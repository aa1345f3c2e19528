"""Reading a member's live stream (Server-Sent Events) the way an app does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from tests.support.api import Person


async def listen(
    person: Person,
    rid: str,
    until: Callable[[list[dict]], bool],
    last_id: str | None = None,
    opened: asyncio.Event | None = None,
) -> list[dict]:
    """Read the live stream (from `last_id`) until `until(events so far)` holds. `opened` is
    set once the stream answered: its consumers exist then, so later writes reach it."""
    headers = dict(person.headers)
    if last_id:
        headers["Last-Event-ID"] = last_id
    events: list[dict] = []
    current: dict[str, Any] = {}
    async with person.http.stream(
        "GET", f"/v1/relationships/{rid}/stream", headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200, await response.aread()
        if opened is not None:
            opened.set()
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                current["id"] = line[3:].strip()
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and "data" in current:
                events.append(current)
                current = {}
                if until(events):
                    return events
    return events
