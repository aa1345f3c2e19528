"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# Sampled in the background by shared/gauges.py (counts only), for the alert rules in
# deploy/prometheus/ and the ops dashboard.
CONSUMER_PENDING = Gauge(
    "attune_consumer_pending_messages",
    "Events on the stream a durable consumer has not been delivered yet (its lag)",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "attune_consumer_ack_pending_messages",
    "Events delivered to a durable consumer and not acknowledged yet",
    ["consumer"],
)
OUTBOX_PENDING = Gauge("attune_outbox_pending_events", "Events written but not yet published")
OUTBOX_OLDEST_PENDING = Gauge(
    "attune_outbox_oldest_pending_seconds", "Age of the oldest event not yet published (0: none)"
)
READY = Gauge("attune_ready", "1 while the service passes its readiness checks, else 0")
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "attune_webhook_endpoints_disabled_total",
    "Webhook endpoints switched off after failing every retry too often in a row",
)
