"""Every route under /v1/relationships/{rid}: outsiders, foreign ids and no token leak nothing."""

from __future__ import annotations

import re

import pytest

from services.gateway.app import create_app
from tests.support.api import couple

# From the published OpenAPI document: what we document is what we test.
ROUTES = sorted(
    (method.upper(), path)
    for path, operations in create_app().openapi()["paths"].items()
    if path.startswith("/v1/relationships/{rid}")
    for method in operations
)
BODIES: dict[str, dict] = {
    "/checkins": {"mood": 3, "connection": 5},
    "/bids": {"to_member_id": "x", "kind": "humor", "channel": "call"},
    "/answer": {"response": "toward"},
    "/touches": {"kind": "hug", "sexual": False},
    "/time-logs": {"date": "2026-11-20", "screen_minutes": 1, "face_to_face_minutes": 1},
    "/boundaries": {"kind": "tech", "rule": "r"},
    "/breaches": {},
    "/conflicts": {"topic": "t", "intensity": 1},
    "/repair": {"felt": "connected"},
    "/assessments": {"answers": [True] * 10},
    "/rituals": {"title": "t", "rrule": "FREQ=DAILY", "timezone": "UTC",
                 "starts_at": "2026-11-01T10:00:00", "duration_minutes": 5},
    "/outcomes": {"occurrence": "2026-11-20T10:00:00Z", "outcome": "completed"},
}  # fmt: skip


def body_for(path: str) -> dict | None:
    for suffix, body in BODIES.items():
        if path.endswith(suffix):
            return body
    return None


def fill(path: str, rid: str, entry_id: str) -> str:
    path = path.replace("{rid}", rid)
    return re.sub(r"\{[a-z_]+\}", entry_id, path)


def test_the_matrix_covers_every_relationship_route():
    assert len(ROUTES) >= 20
    assert ("GET", "/v1/relationships/{rid}/stream") in ROUTES


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_an_outsider_a_foreign_entry_and_no_token_learn_nothing(http, method, path):
    rid, (owner, partner) = await couple(http, "Owner", "Partner")
    other_rid, (outsider,) = await couple(http, "Outsider")
    # An entry that exists, but in another relationship.
    foreign = await outsider.ok(
        "POST", f"/v1/relationships/{other_rid}/boundaries", {"kind": "tech", "rule": "secret rule"}
    )
    body = body_for(path)
    target = fill(path, rid, foreign["id"])

    async def call(headers: dict[str, str], url: str):
        if method == "GET" and url.endswith("/stream"):
            async with http.stream("GET", url, headers=headers, timeout=5) as response:
                return response.status_code, (await response.aread()).decode()
        response = await http.request(method, url, json=body, headers=headers)
        return response.status_code, response.text

    secret_marks = [owner.id, partner.id, "Owner", "Partner"]
    status, text = await call(outsider.headers, target)
    assert status == 404, (status, text)
    assert not any(mark in text for mark in secret_marks)

    status, text = await call({}, target)
    assert status == 401, (status, text)

    if "{" in path.removeprefix("/v1/relationships/{rid}"):
        status, text = await call(owner.headers, target)
        assert status in (404, 422), (status, text)  # the id exists, but not here
        assert outsider.id not in text and "secret rule" not in text
