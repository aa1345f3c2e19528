"""Demo data: two members, one relationship, three weeks of entries, so there is something
to look at at once. Runs against a live gateway; a second run finds the demo and stops."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PASSWORD = "demo-password-1234"  # noqa: S105 - a published demo account on a local system
PEOPLE = (("robin@demo.attune.local", "Robin", "Europe/Berlin"),
          ("alex@demo.attune.local", "Alex", "America/New_York"))  # fmt: skip


def _login(http: httpx.Client, email: str, name: str, timezone: str) -> tuple[str, str]:
    signup = http.post(
        "/v1/auth/signup",
        json={"email": email, "password": PASSWORD, "display_name": name, "timezone": timezone},
    )
    if signup.status_code == 201:
        body = signup.json()
        return body["member"]["id"], body["access_token"]
    token = http.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    token.raise_for_status()
    access = token.json()["access_token"]
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {access}"}).json()
    return me["id"], access


def seed(api: str) -> dict[str, Any]:
    rng = random.Random(7)  # noqa: S311 - variety in demo data, not security
    with httpx.Client(base_url=api, timeout=10) as http:
        (_, robin_token), (alex, alex_token) = (_login(http, *p) for p in PEOPLE)
        as_robin = {"Authorization": f"Bearer {robin_token}"}
        as_alex = {"Authorization": f"Bearer {alex_token}"}
        existing = http.get("/v1/relationships", headers=as_robin).json()
        if existing:
            return {"relationship": existing[0]["id"], "seeded": False}
        rid = http.post(
            "/v1/relationships", json={"name": "Robin & Alex"}, headers=as_robin
        ).json()["id"]
        code = http.post(f"/v1/relationships/{rid}/invites", headers=as_robin).json()["code"]
        http.post(f"/v1/invites/{code}/accept", headers=as_alex).raise_for_status()
        base = f"/v1/relationships/{rid}"

        def post(path: str, body: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
            response = http.post(base + path, json=body, headers=who)
            response.raise_for_status()
            return dict(response.json())

        now = datetime.now(UTC)
        post("/rituals", {"title": "Sunday walk", "rrule": "FREQ=WEEKLY;BYDAY=SU",
                          "timezone": "Europe/Berlin", "starts_at": "2026-01-04T10:00:00",
                          "duration_minutes": 60}, as_robin)  # fmt: skip
        boundary = post("/boundaries", {"kind": "tech", "rule": "Phones away at dinner",
                        "window": {"start": "19:00", "end": "20:00", "timezone": "Europe/Berlin"}},
                        as_robin)  # fmt: skip
        post(f"/boundaries/{boundary['id']}/accept", {}, as_alex)
        for day in range(21, 0, -1):
            at = (now - timedelta(days=day)).replace(hour=19, minute=30).isoformat()
            for who in (as_robin, as_alex):
                post("/checkins", {"mood": rng.randint(2, 5), "connection": rng.randint(4, 9),
                     "pillars": {"emotional": rng.randint(2, 5), "intellectual": rng.randint(2, 5),
                                 "physical": rng.randint(2, 5)},
                     "visibility": "shared", "occurred_at": at}, who)  # fmt: skip
            bid = post("/bids", {"to_member_id": alex, "kind": rng.choice(["humor", "attention"]),
                       "channel": "message", "occurred_at": at}, as_robin)  # fmt: skip
            response = rng.choice(["toward", "toward", "away"])
            post(f"/bids/{bid['id']}/answer", {"response": response, "occurred_at": at}, as_alex)
            if day % 3 == 0:
                post("/touches", {"kind": "hug", "sexual": False, "minutes": 2, "occurred_at": at,
                     "visibility": "shared"}, as_alex)  # fmt: skip
        return {"relationship": rid, "seeded": True}
