"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_CONSUMED = Counter(
    "attune_events_consumed_total",
    "Events handled by a durable consumer, by outcome",
    ["consumer", "outcome"],
)
DEAD_LETTERED = Counter(
    "attune_dead_lettered_total", "Messages sent to the dead-letter subject", ["consumer"]
)
OUTBOX_PUBLISHED = Counter(
    "attune_outbox_published_total", "Events the outbox relay published", ["type"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "attune_outbox_publish_failures_total", "Relay batches that failed to publish"
)
RPC_HANDLED = Counter(
    "attune_rpc_handled_total", "Commands and queries answered, by outcome", ["name", "outcome"]
)
RPC_CALL_FAILURES = Counter(
    "attune_rpc_call_failures_total",
    "Calls to another service that got no answer (timeout, no responder, no connection)",
    ["service"],
)
RPC_LATENCY = Histogram("attune_rpc_seconds", "Time to answer a command or query", ["name"])
