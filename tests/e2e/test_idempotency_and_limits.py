"""Idempotency-Key replays, a third member's acceptance, and the edge's limits."""

from __future__ import annotations

import json
from dataclasses import replace

from tests.support.api import couple, sign_up


async def test_an_idempotency_key_replay_returns_the_same_entry_and_writes_nothing(http):
    rid, (pia, rob) = await couple(http, "Pia", "Rob")
    base = f"/v1/relationships/{rid}"
    body = {"kind": "massage", "sexual": False, "minutes": 15, "visibility": "shared"}
    first = await pia.post(f"{base}/touches", body, key="touch-1")
    again = await pia.post(f"{base}/touches", body, key="touch-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    timeline = await rob.ok("GET", f"{base}/timeline?kind=touch")
    assert [e["id"] for e in timeline["entries"]] == [first.json()["id"]]

    changed = await pia.post(f"{base}/touches", {**body, "minutes": 16}, key="touch-1")
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"

    relationship = await pia.post("/v1/relationships", {"name": "x"}, key="rel-1")
    relationship_again = await pia.post("/v1/relationships", {"name": "x"}, key="rel-1")
    assert relationship.json()["id"] == relationship_again.json()["id"]
    assert len(await pia.ok("GET", "/v1/relationships")) == 2


async def test_a_retry_after_signing_in_again_is_the_same_request(http):
    rid, (ada, bo) = await couple(http, "Ada", "Bo")
    base = f"/v1/relationships/{rid}"
    touch = {"kind": "hug", "sexual": False, "visibility": "shared"}
    first_touch = await ada.post(f"{base}/touches", touch, key="touch-again")
    first_relationship = await ada.post("/v1/relationships", {"name": "x"}, key="rel-again")
    signed_in = await http.post(
        "/v1/auth/token", json={"email": ada.email, "password": "a long enough secret"}
    )
    assert signed_in.status_code == 200, signed_in.text
    again = replace(ada, token=signed_in.json()["access_token"])
    assert again.token != ada.token
    touch_again = await again.post(f"{base}/touches", touch, key="touch-again")
    relationship_again = await again.post("/v1/relationships", {"name": "x"}, key="rel-again")
    for first, retried in ((first_touch, touch_again), (first_relationship, relationship_again)):
        assert (first.status_code, retried.status_code) == (201, 201), retried.text
        assert retried.json()["id"] == first.json()["id"]
        assert retried.headers.get("idempotent-replayed") == "true"
    # Nothing written twice: one touch, one new relationship.
    timeline = await bo.ok("GET", f"{base}/timeline?kind=touch")
    assert [e["id"] for e in timeline["entries"]] == [first_touch.json()["id"]]
    assert len(await again.ok("GET", "/v1/relationships")) == 2


async def test_a_retry_sent_the_moment_the_answer_arrives_is_a_replay(http):
    rid, (kit,) = await couple(http, "Kit")
    url = f"/v1/relationships/{rid}/checkins"
    for attempt in range(25):
        key = f"at-once-{attempt}"
        first = await kit.post(url, {"mood": 3, "connection": 6}, key=key)
        again = await kit.post(url, {"mood": 3, "connection": 6}, key=key)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json()["id"] == first.json()["id"]


async def test_a_third_member_joining_makes_a_proposed_boundary_need_their_acceptance(http):
    rid, (sol, tam) = await couple(http, "Sol", "Tam")
    base = f"/v1/relationships/{rid}"
    boundary = await sol.ok("POST", f"{base}/boundaries", {"kind": "alone_time", "rule": "Sundays"})
    uri = await sign_up(http, "Uri")
    invite = await sol.ok("POST", f"{base}/invites")
    await uri.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    accepted = await tam.ok("POST", f"{base}/boundaries/{boundary['id']}/accept", status=200)
    assert (accepted["status"], accepted["awaiting"]) == ("proposed", [uri.id])
    done = await uri.ok("POST", f"{base}/boundaries/{boundary['id']}/accept", status=200)
    assert done["status"] == "active"


async def test_an_invite_is_single_use(http):
    rid, (vi,) = await couple(http, "Vi")
    invite = await vi.ok("POST", f"/v1/relationships/{rid}/invites")
    wes, xan = await sign_up(http, "Wes"), await sign_up(http, "Xan")
    await wes.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    used = await xan.post(f"/v1/invites/{invite['code']}/accept")
    assert used.status_code == 404
    assert used.json()["code"] == "invite_not_found"


async def test_a_body_over_the_limit_is_413_and_invalid_json_is_422(http):
    rid, (yan,) = await couple(http, "Yan")
    huge = await yan.post(
        f"/v1/relationships/{rid}/checkins",
        content=json.dumps({"mood": 3, "connection": 3, "note": "x" * 100_000}),
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    broken = await yan.post(
        f"/v1/relationships/{rid}/checkins",
        content=b'{"mood": 3, "conn',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422
    wrong_field = await yan.post(f"/v1/relationships/{rid}/checkins", {"mood": 9, "connection": 3})
    assert (wrong_field.status_code, wrong_field.json()["field"]) == (422, "mood")
    zone = await yan.http.patch("/v1/me", json={"timezone": "Moon/Base"}, headers=yan.headers)
    assert (zone.status_code, zone.json()["field"]) == (422, "timezone")
