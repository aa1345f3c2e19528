"""Stopping background tasks for good.

On Python 3.11 a cancellation can be swallowed: `asyncio.wait_for` (used inside nats-py's
requests) returns its result instead of raising when the awaited future finished in the
same loop iteration as the cancel (fixed in 3.12). A task that loops then runs on, and a
plain `task.cancel(); await task` waits forever. So cancel again until each task is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def cancel_until_done(
    tasks: Iterable[asyncio.Task[None]], every_seconds: float = 0.2
) -> None:
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=every_seconds)
