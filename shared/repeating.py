"""Repeated background work that sleeps until it is due or woken, never polling on a short
timer: relays, ticks and dispatchers each wait on a signal and a long safety period."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.logging import failure, get_logger

log = get_logger(__name__)


class Wake:
    """Wakes a `repeat_when_due` loop: at once, or only if something falls due before the
    loop would look anyway (so a burst of requests for later costs no extra round)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        # Monotonic time of the loop's next round; infinite while no round is planned (a
        # round is running), so that any request then wakes the next round.
        self.planned = math.inf

    def now(self) -> None:
        self.event.set()

    def due_in(self, seconds: float) -> None:
        if time.monotonic() + seconds < self.planned:
            self.event.set()


async def repeat_when_due(
    work: Callable[[], Awaitable[Any]],
    next_due: Callable[[], Awaitable[float | None]],
    wake: Wake,
    safety_seconds: float,
    name: str,
) -> None:
    """Run `work`, then sleep until the next thing is due (`next_due`: seconds from now, None
    for nothing), until `wake` says so, or at most `safety_seconds` (which also covers work
    another replica added). With nothing to do this costs two reads per safety period."""
    while True:
        wake.event.clear()  # before the round, so work added during it is not missed
        # While it runs, any request wakes the next round. (This was 0, which made a request
        # during the round wake nothing: one that landed after the round had read when the
        # next is due waited out the whole sleep, seen as an insights flag 30 s late.)
        wake.planned = math.inf
        try:
            await work()
            due = await next_due()
            delay = safety_seconds if due is None else min(max(due, 0.0), safety_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # NATS or MongoDB away for a moment: try again soon
            log.warning("repeated_work_failed", work=name, **failure(exc))
            delay = min(1.0, safety_seconds)
        if delay > 0 and not wake.event.is_set():
            wake.planned = time.monotonic() + delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.event.wait(), timeout=delay)
