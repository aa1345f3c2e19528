"""The ops figures: counts and rates only - never ids, names, emails or anything members wrote."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY

from services.gateway import store
from services.gateway.ops import dead_letters
from services.gateway.ops.lag_history import LagHistory
from services.gateway.routes.health import BACKEND_SERVICES
from shared.health import VERSION
from shared.problems import AttuneError
from shared.rpc import CallContext, Ping, RpcClient
from shared.runtime import ServiceRuntime


async def _service(rpc: RpcClient, name: str) -> dict[str, Any]:
    try:
        pong = await rpc.call(Ping(), service=name, context=CallContext(), timeout=1)
    except AttuneError:
        return {"name": name, "up": False, "ready": False, "version": None, "uptime_seconds": None,
                "outbox_pending": None}  # fmt: skip
    return {"name": name, "up": True, "ready": pong.ready, "version": pong.version,
            "uptime_seconds": pong.uptime_seconds,
            "outbox_pending": pong.outbox_pending}  # fmt: skip


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


def _percentile(buckets: dict[float, float], count: float, share: float) -> float | None:
    """The upper bound of the histogram bucket holding that share of the requests."""
    if not count:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= share * count:
            return bound if bound != float("inf") else None
    return None


def _routes(limit: int = 15) -> list[dict[str, Any]]:
    """The slowest routes by p99 (from the latency histogram's buckets), with their counts."""
    buckets: dict[tuple[str, str], dict[float, float]] = {}
    counts: dict[tuple[str, str], float] = {}
    for metric in REGISTRY.collect():
        if metric.name != "attune_http_request_seconds":
            continue
        for sample in metric.samples:
            key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
            if sample.name.endswith("_bucket"):
                per = buckets.setdefault(key, {})
                per[float(sample.labels["le"])] = sample.value
            elif sample.name.endswith("_count"):
                counts[key] = sample.value
    rows: list[dict[str, Any]] = []
    for (method, route), per in buckets.items():
        count = counts.get((method, route), 0)
        if count:
            rows.append({"method": method, "route": route, "requests": int(count),
                         "p99_seconds": _percentile(per, count, 0.99)})  # fmt: skip

    def slowest_first(row: dict[str, Any]) -> tuple[float, int]:
        p99 = row["p99_seconds"]
        return (-(p99 if p99 is not None else float("inf")), -int(row["requests"]))

    rows.sort(key=slowest_first)
    return rows[:limit]


def _http() -> dict[str, Any]:
    """From this gateway's own Prometheus metrics: totals, error rate, latency percentiles."""
    total = errors = 0.0
    buckets: dict[float, float] = {}
    count = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "attune_http_requests":
            for sample in metric.samples:
                if sample.labels.get("route") == "/readyz":
                    continue  # 503 by design while a dependency is away, not a failed request
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
        return _percentile(buckets, count, share)

    return {"requests": int(total), "server_error_rate": round(errors / total, 4) if total else 0,
            "latency_seconds": {"p50": percentile(0.5), "p95": percentile(0.95),
                                "p99": percentile(0.99)},
            "routes": _routes()}  # fmt: skip


def _own_outbox_pending() -> int | None:
    sampled = REGISTRY.get_sample_value("attune_outbox_pending_events")
    return None if sampled is None else int(sampled)


async def summary(
    runtime: ServiceRuntime, rpc: RpcClient, history: LagHistory | None = None
) -> dict[str, Any]:
    now = datetime.now(UTC)
    db = runtime.db
    services = await asyncio.gather(*(_service(rpc, name) for name in BACKEND_SERVICES))
    gateway = {"name": "gateway", "up": True, "ready": await runtime.ready(), "version": VERSION,
               "uptime_seconds": round(time.monotonic() - runtime.started_at, 1),
               "outbox_pending": _own_outbox_pending()}  # fmt: skip
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
        "dead_letter_groups": [
            {
                k: g[k]
                for k in ("service", "reason", "event_type", "count", "first_seen", "last_seen")
            }
            for g in await dead_letters.groups(
                runtime.broker.connection, runtime.settings.namespace
            )
        ],
        "outbox_pending": {s["name"]: s["outbox_pending"] for s in (gateway, *services)},
        "consumer_lag": history.series() if history is not None else {},
        "webhooks": await store.delivery_stats(db, now - timedelta(hours=1)),
        "http": _http(),
    }
