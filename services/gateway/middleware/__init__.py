"""Edge middleware, one module each: body size limit, JSON-only bodies, correlation ids,
Idempotency-Key replay, request metrics.

All pure ASGI, so streaming responses (the live stream) pass through untouched. Their
refusals are the same problem+json as every route's (services/gateway/problems.py).
"""

from services.gateway.middleware.body_limit import BodyLimit
from services.gateway.middleware.correlation import Correlation
from services.gateway.middleware.idempotency import (
    ABANDONED_AFTER,
    REPLAYED,
    REPLAYED_HEADER,
    Idempotency,
)
from services.gateway.middleware.json_body import JSON_DEPTH_MAX, JsonBody, json_refusal
from services.gateway.middleware.metrics import LATENCY, REQUESTS, Metrics

__all__ = [
    "ABANDONED_AFTER",
    "JSON_DEPTH_MAX",
    "LATENCY",
    "REPLAYED",
    "REPLAYED_HEADER",
    "REQUESTS",
    "BodyLimit",
    "Correlation",
    "Idempotency",
    "JsonBody",
    "Metrics",
    "json_refusal",
]
