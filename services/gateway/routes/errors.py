"""Error responses documented on every route (all are problem+json)."""

from __future__ import annotations

from typing import Any

from services.gateway.schemas import Problem


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        401: "No token, or one that is not valid any more",
        403: "Not allowed for this member",
        404: "Not found, or not yours to know about",
        409: "A state conflict (already answered, key reused, ...)",
        413: "Body too large",
        415: "The body is not JSON (application/json, UTF-8)",
        422: "Invalid input; `field` names the first offending field",
        429: "Too many requests; see Retry-After",
        503: "A dependency is unavailable; see Retry-After",
    }
    return {
        status: {
            "model": Problem,
            "description": texts[status],
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }


AUTHED = problems(401, 404, 422, 429, 503)
WRITE = problems(401, 404, 409, 413, 415, 422, 429, 503)
