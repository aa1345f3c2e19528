"""Consumer lag over the last hour, sampled by the gateway for the dashboard's chart.

Kept in this process's memory (a restart starts the chart afresh; each gateway replica draws
its own): Prometheus keeps the long history, this is the glance at 3 a.m.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime, timedelta

from nats.aio.client import Client

from shared.logging import failure, get_logger

log = get_logger(__name__)


class LagHistory:
    def __init__(self, every_seconds: float = 15.0, keep: timedelta = timedelta(hours=1)) -> None:
        self.every_seconds = every_seconds
        self._points = max(int(keep.total_seconds() // every_seconds), 2)
        self._series: dict[str, deque[tuple[datetime, int]]] = {}

    async def sample(self, connection: Client, namespace: str) -> None:
        js = connection.jetstream()
        prefix = namespace.upper() + "_"
        now = datetime.now(UTC)
        for info in await js.streams_info():
            name = info.config.name or ""
            if not name.startswith(prefix) or "_DLQ_" in name:
                continue
            for consumer in await js.consumers_info(name):
                if consumer.name is None or consumer.config.durable_name is None:
                    continue  # ephemeral readers (the ops pages' own) are not consumers to watch
                series = self._series.setdefault(consumer.name, deque(maxlen=self._points))
                series.append((now, int(consumer.num_pending or 0)))

    def series(self) -> dict[str, list[dict[str, object]]]:
        return {
            name: [{"at": at.strftime("%H:%M:%S"), "pending": pending} for at, pending in points]
            for name, points in sorted(self._series.items())
        }

    async def run(self, connection: Client, namespace: str) -> None:
        while True:
            try:
                await self.sample(connection, namespace)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away for a moment: a gap in the chart
                log.warning("lag_not_sampled", **failure(exc))
            await asyncio.sleep(self.every_seconds)
