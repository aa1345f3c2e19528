"""A full member journey over HTTP against the real running services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import couple, sign_up
from tests.support.waiting import eventually


async def test_two_people_build_a_week_together(http):
    rid, (sam, kim) = await couple(http, "Sam", "Kim")
    base = f"/v1/relationships/{rid}"
    relationship = await kim.ok("GET", base)
    assert {m["display_name"] for m in relationship["members"]} == {"Sam", "Kim"}
    assert [r["id"] for r in await kim.ok("GET", "/v1/relationships")] == [rid]

    # Both log every kind of fact.
    await sam.ok("POST", f"{base}/checkins", {"mood": 4, "connection": 8, "needs": ["heard"],
                 "pillars": {"emotional": 4, "intellectual": 3, "physical": 4},
                 "gratitude": "the tea", "visibility": "shared"})  # fmt: skip
    await kim.ok("POST", f"{base}/checkins", {"mood": 3, "connection": 6,
                 "signals": {"held_back": True, "confided_elsewhere": False}})  # fmt: skip
    bid = await sam.ok("POST", f"{base}/bids", {"to_member_id": kim.id, "kind": "conversation",
                       "channel": "in_person"})  # fmt: skip
    assert bid["status"] == "open"
    answered = await kim.ok("POST", f"{base}/bids/{bid['id']}/answer", {"response": "toward"}, 200)
    assert answered["response"] == "toward"
    await kim.ok("POST", f"{base}/touches", {"kind": "cuddle", "sexual": False, "minutes": 20})
    await sam.ok("POST", f"{base}/time-logs", {"date": "2026-11-24", "screen_minutes": 180,
                 "face_to_face_minutes": 90})  # fmt: skip
    boundary = await sam.ok("POST", f"{base}/boundaries", {"kind": "tech", "rule": "phones away",
                            "window": {"start": "19:00", "end": "20:00", "days": ["mo", "we"],
                                       "timezone": "Europe/Berlin"}})  # fmt: skip
    assert boundary["status"] == "proposed"
    agreed = await kim.ok("POST", f"{base}/boundaries/{boundary['id']}/accept", status=200)
    assert agreed["status"] == "active"
    await kim.ok("POST", f"{base}/boundaries/{boundary['id']}/breaches", {"note": "one call"})
    conflict = await sam.ok("POST", f"{base}/conflicts", {"topic": "holidays", "intensity": 3,
                            "avoided_eye_contact": True, "sarcasm_or_contempt": True,
                            "visibility": "shared"})  # fmt: skip
    # Kim tells the same fight from her side, once; Sam's own view is the conflict itself.
    seen = await kim.ok("POST", f"{base}/conflicts/{conflict['id']}/perspective",
                        {"intensity": 4, "shut_down": True})  # fmt: skip
    assert seen["perspectives"][kim.id]["intensity"] == 4 and seen["topic"] == "holidays"
    again = await kim.post(f"{base}/conflicts/{conflict['id']}/perspective", {"intensity": 2})
    assert again.status_code == 409, again.text
    own = await sam.post(f"{base}/conflicts/{conflict['id']}/perspective", {"intensity": 2})
    assert (own.status_code, own.headers["content-type"]) == (403, "application/problem+json")
    await kim.ok("POST", f"{base}/conflicts/{conflict['id']}/repair", {"felt": "connected"})
    await sam.ok("POST", f"{base}/conflicts", {"topic": "chores", "intensity": 2,
                 "sarcasm_or_contempt": True, "visibility": "shared"})  # fmt: skip
    assessment = await kim.ok("POST", f"{base}/assessments", {"answers": [True] * 8 + [False] * 2})
    assert (assessment["score"], assessment["band"]) == (8, "room_to_grow")
    ritual = await sam.ok("POST", f"{base}/rituals", {"title": "Sunday walk",
                          "rrule": "FREQ=WEEKLY;BYDAY=SU", "timezone": "Europe/Berlin",
                          "starts_at": "2026-11-01T10:00:00", "duration_minutes": 60})  # fmt: skip
    await kim.ok("POST", f"{base}/rituals/{ritual['id']}/outcomes",
                 {"occurrence": "2026-11-22T10:00:00+01:00", "outcome": "completed"})  # fmt: skip

    # Timelines, lists and views.
    sam_sees = await sam.ok("GET", f"{base}/timeline")
    kim_sees = await kim.ok("GET", f"{base}/timeline?limit=200")
    assert (
        len(kim_sees["entries"]) == len(sam_sees["entries"]) + 2
    )  # Kim's private check-in, assessment
    assert [b["status"] for b in (await sam.ok("GET", f"{base}/boundaries"))["entries"]] == [
        "active"
    ]
    assert (await kim.ok("GET", f"{base}/bids"))["entries"] == []
    assert len((await kim.ok("GET", f"{base}/rituals"))["entries"]) == 1
    week = datetime(2026, 11, 23, tzinfo=UTC)
    window = {"from": week.isoformat(), "to": (week + timedelta(days=14)).isoformat()}

    # The scheduler learns of the ritual and the boundary from their events: wait for both.
    async def scheduled() -> tuple[dict, dict] | None:
        response = await kim.get(f"{base}/schedule", params=window)
        assert response.status_code == 200, response.text
        found, coming = response.json(), await kim.ok("GET", f"{base}/schedule")
        ready = any(i["kind"] == "ritual" for i in found["items"]) and any(
            i["kind"] == "boundary_window" for i in coming["items"]
        )  # each in the answer it is read from (they may land between the two reads)
        return (found, coming) if ready else None

    schedule, coming = await eventually(scheduled, timeout=30)
    # The device-free window: Mondays and Wednesdays 19:00-20:00 Berlin; any coming week
    # (the default range) holds exactly one of each.
    windows = [i for i in coming["items"] if i["kind"] == "boundary_window"]
    starts = sorted(datetime.fromisoformat(w["starts_at"]) for w in windows)
    assert sorted(s.strftime("%a %H:%M") for s in starts) == ["Mon 19:00", "Wed 19:00"]
    assert [i["starts_at"] for i in schedule["items"] if i["kind"] == "ritual"] == [
        "2026-11-29T10:00:00+01:00", "2026-12-06T10:00:00+01:00"
    ]  # fmt: skip

    async def contempt_flag() -> dict | None:
        seen = await kim.ok("GET", f"{base}/insights")
        return seen if [f["code"] for f in seen["flags"]] == ["contempt"] else None

    insights = await eventually(contempt_flag, timeout=30)
    assert set(insights) == {"flags", "health", "strengths", "recommendations"}
    [flag] = insights["flags"]
    # Two conflicts, not three reports; sarcasm only in Sam's accounts: his word alone.
    assert flag["evidence"] == {"count": 2, "window_days": 30, "threshold": 2}
    assert (flag["basis"], flag["rule_version"], flag["can_respond"]) == ("one_member", 2, True)
    assert flag["title"] and flag["summary"] and flag["text_key"] == "insights.flag.contempt"
    health = insights["health"]
    assert health["sample_size"] == {"emotional": 1, "intellectual": 1, "physical": 1,
                                     "overall": 1}  # fmt: skip
    assert health["emotional"] is None and health["trend"] == {}  # one check-in says nothing yet
    assert health["time_zone"] == "Europe/Berlin" and health["as_of"]
    recommendations = {r["kind"]: r for r in insights["recommendations"]}
    starter = recommendations["conversation_starter"]
    assert starter["id"] and starter["text_key"].startswith("insights.starter-")
    note = {"answer": "see_it_differently", "note": "I was teasing, and I hear it stung"}
    answered = await kim.post(f"{base}/insights/flags/contempt/response", note)
    assert answered.status_code == 204, answered.text
    assert (await kim.post(f"{base}/insights/flags/contempt/response", note)).status_code == 409
    assert (await sam.post(f"{base}/insights/flags/contempt/response", note)).status_code == 409
    for member in (sam, kim):
        [shown] = (await member.ok("GET", f"{base}/insights"))["flags"]
        assert [(r["member_id"], r["note"]) for r in shown["responses"]] == [(kim.id, note["note"])]
    ritual_id = recommendations["ritual_to_try"]["id"]
    assert (
        await kim.post(f"{base}/insights/recommendations/{ritual_id}/dismiss")
    ).status_code == 204
    assert (
        await kim.post(f"{base}/insights/recommendations/{starter['id']}/done")
    ).status_code == 204
    left = {r["id"] for r in (await kim.ok("GET", f"{base}/insights"))["recommendations"]}
    assert ritual_id not in left and starter["id"] not in left
    unknown = await kim.post(f"{base}/insights/recommendations/nothing-here/done")
    assert (
        unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    )

    me = await kim.ok("PATCH", "/v1/me", {"quiet_hours": {"start": "22:00", "end": "07:00"},
                      "checkin_reminder_time": "20:30"})  # fmt: skip
    assert me["checkin_reminder_time"] == "20:30"
    export = await kim.ok("GET", "/v1/me/export")
    assert export["member"]["id"] == kim.id
    assert {r["author_id"] for r in export["records"]} == {kim.id}


async def test_tokens_can_be_revoked_and_wrong_passwords_are_refused(http):
    ana = await sign_up(http, "Ana")
    wrong = await http.post("/v1/auth/token", json={"email": ana.email, "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    right = await http.post(
        "/v1/auth/token", json={"email": ana.email, "password": "a long enough secret"}
    )
    assert right.status_code == 200
    await ana.ok("POST", "/v1/auth/logout", status=204)
    assert (await ana.get("/v1/me")).status_code == 401


async def test_the_last_member_leaving_erases_the_relationship(http):
    rid, (lee, max_) = await couple(http, "Lee", "Max")
    assert (await lee.delete(f"/v1/relationships/{rid}/members/me")).status_code == 204
    assert (await lee.get(f"/v1/relationships/{rid}")).status_code == 404
    remaining = await max_.ok("GET", f"/v1/relationships/{rid}")
    assert [m["id"] for m in remaining["members"]] == [max_.id]
    assert (await max_.delete(f"/v1/relationships/{rid}/members/me")).status_code == 204
    assert (await max_.get(f"/v1/relationships/{rid}")).status_code == 404
