"""The ops figures: counts and rates only - never ids, names, emails or anything members wrote."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY

from services.gateway import store
from services.gateway.routes.health import BACKEND_SERVICES
from shared.problems import AttuneError
from shared.rpc import CallContext, Empty, Pong, RpcClient
from shared.runtime import VERSION, ServiceRuntime


async def _service(rpc: RpcClient, name: str) -> dict[str, Any]:
    try:
        pong = await rpc.call("qry", name, "ping", Empty(), Pong, context=CallContext(), timeout=1)
    except AttuneError:
        return {"name": name, "up": False, "ready": False, "version": None, "uptime_seconds": None}
    return {"name": name, "up": True, "ready": pong.ready, "version": pong.version,
            "uptime_seconds": pong.uptime_seconds}  # fmt: skip


async def _streams(runtime: ServiceRuntime) -> list[dict[str, Any]]:
    js = runtime.broker.connection.jetstream()
    prefix = runtime.settings.namespace.upper() + "_"
    found = []
    for info in await js.streams_info():
        name = info.config.name or ""
        if not name.startswith(prefix):
            continue
        consumers = [
            {"name": c.name, "pending": c.num_pending, "ack_pending": c.num_ack_pending,
             "redelivered": c.num_redelivered}
            for c in await js.consumers_info(name)
        ]  # fmt: skip
        found.append({"name": name, "messages": info.state.messages, "bytes": info.state.bytes,
                      "dead_letters": "_DLQ_" in name, "consumers": consumers})  # fmt: skip
    return sorted(found, key=lambda s: s["name"])


def _http() -> dict[str, Any]:
    """From this gateway's own Prometheus metrics: totals, error rate, latency percentiles."""
    total = errors = 0.0
    buckets: dict[float, float] = {}
    count = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "attune_http_requests":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    total += sample.value
                    if sample.labels.get("status", "").startswith("5"):
                        errors += sample.value
        if metric.name == "attune_http_request_seconds":
            for sample in metric.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0) + sample.value
                elif sample.name.endswith("_count"):
                    count += sample.value

    def percentile(share: float) -> float | None:
        if not count:
            return None
        for bound in sorted(buckets):
            if buckets[bound] >= share * count:
                return bound if bound != float("inf") else None
        return None

    return {"requests": int(total), "server_error_rate": round(errors / total, 4) if total else 0,
            "latency_seconds": {"p50": percentile(0.5), "p95": percentile(0.95),
                                "p99": percentile(0.99)}}  # fmt: skip


async def summary(runtime: ServiceRuntime, rpc: RpcClient) -> dict[str, Any]:
    now = datetime.now(UTC)
    db = runtime.db
    services = await asyncio.gather(*(_service(rpc, name) for name in BACKEND_SERVICES))
    gateway = {"name": "gateway", "up": True, "ready": await runtime.ready(), "version": VERSION,
               "uptime_seconds": round(time.monotonic() - runtime.started_at, 1)}  # fmt: skip
    counts = await store.counts_since(db, now - timedelta(hours=1))
    series: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for row in counts:
        minute = row["minute"].replace(tzinfo=UTC).strftime("%H:%M")
        series[minute] = series.get(minute, 0) + int(row["count"])
        by_type[row["type"]] = by_type.get(row["type"], 0) + int(row["count"])
    minutes = [(now - timedelta(minutes=m)).strftime("%H:%M") for m in range(59, -1, -1)]
    streams = await _streams(runtime)
    return {
        "generated_at": now.isoformat(),
        "services": [gateway, *services],
        "events": {
            "per_minute_by_type": {t: round(n / 60, 2) for t, n in sorted(by_type.items())},
            "last_hour": [{"minute": m, "count": series.get(m, 0)} for m in minutes],
        },
        "streams": streams,
        "dead_letters": {s["name"]: s["messages"] for s in streams if s["dead_letters"]},
        "webhooks": await store.delivery_stats(db, now - timedelta(hours=1)),
        "http": _http(),
    }
