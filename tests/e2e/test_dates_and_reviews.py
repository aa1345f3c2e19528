"""Digital dates and monthly reviews over HTTP against the real running services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.api import Person, sign_up
from tests.support.waiting import eventually

BERLIN, LA = ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles")


async def far_apart(http) -> tuple[str, Person, Person]:
    ana = await sign_up(http, "Ana", "Europe/Berlin")
    leo = await sign_up(http, "Leo", "America/Los_Angeles")
    for person in (ana, leo):
        await person.ok("PATCH", "/v1/me", {"quiet_hours": {"start": "22:00", "end": "07:00"}},
                        200)  # fmt: skip
    relationship = await ana.ok("POST", "/v1/relationships", {"name": "far"})
    invite = await ana.ok("POST", f"/v1/relationships/{relationship['id']}/invites")
    await leo.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    return relationship["id"], ana, leo


async def test_a_date_across_zones_is_shown_in_both_local_times(http):
    rid, ana, leo = await far_apart(http)
    base = f"/v1/relationships/{rid}/dates"
    day = (datetime.now(BERLIN) + timedelta(days=3)).date()
    starts = datetime(day.year, day.month, day.day, 19, 0, tzinfo=BERLIN)
    proposed = await ana.ok("POST", base, {
        "starts_at": starts.isoformat(), "timezone": "Europe/Berlin", "duration_minutes": 60,
        "kind": "watch_together", "plan": "the same film, two sofas",
    })  # fmt: skip
    assert proposed["status"] == "proposed" and proposed["plan"] == "the same film, two sofas"
    accepted = await leo.ok("POST", f"{base}/{proposed['id']}/accept", status=200)
    assert accepted["status"] == "accepted"

    async def local_times() -> dict | None:
        found = (await leo.ok("GET", base))["dates"]
        times = found[0]["local_times"] if found else {}
        return times if {ana.id, leo.id} <= set(times) else None

    times = await eventually(local_times, timeout=20)
    assert datetime.fromisoformat(times[ana.id]["starts_at"]).hour == 19
    in_la = starts.astimezone(LA)
    assert datetime.fromisoformat(times[leo.id]["starts_at"]) == in_la
    assert times[leo.id]["timezone"] == "America/Los_Angeles"
    schedule = await leo.ok("GET", f"/v1/relationships/{rid}/schedule")
    (item,) = [i for i in schedule["items"] if i["kind"] == "digital_date"]
    assert datetime.fromisoformat(item["local_time"]).utcoffset() == in_la.utcoffset()
    assert set(item["local_times"]) == {ana.id, leo.id}


def in_quiet_hours(slot: dict, zone: ZoneInfo, quiet: tuple[str, str]) -> bool:
    """Whether any quarter hour of the slot lies in these quiet hours on the member's clock."""
    begin, end = (int(c[:2]) * 60 + int(c[3:]) for c in quiet)
    moment = datetime.fromisoformat(slot["starts_at"])
    while moment < datetime.fromisoformat(slot["ends_at"]):
        clock = moment.astimezone(zone)
        minute = clock.hour * 60 + clock.minute
        if (begin <= minute < end) if begin < end else (minute >= begin or minute < end):
            return True
        moment += timedelta(minutes=15)
    return False


async def test_suggestions_fit_both_waking_days_outside_quiet_hours(http):
    rid, ana, leo = await far_apart(http)
    # Quiet hours that cut into the few hours both are awake: Ana goes quiet at 21:30 Berlin
    # time, Leo keeps 11:00-12:00 in Los Angeles free. The evenest slots (Leo's late morning,
    # Ana's evening) lie in one or the other, so ignoring either would show here.
    quiet = {BERLIN: ("21:30", "07:00"), LA: ("11:00", "12:00")}
    for person, zone in ((ana, BERLIN), (leo, LA)):
        begin, end = quiet[zone]
        await person.ok("PATCH", "/v1/me", {"quiet_hours": {"start": begin, "end": end}}, 200)
    start = datetime.now(UTC).replace(microsecond=0)
    query = f"duration=60&from={start.isoformat()}&to={(start + timedelta(days=7)).isoformat()}"
    url = f"/v1/relationships/{rid}/dates/suggestions?{query}".replace("+", "%2B")

    async def clear_of_everyones_quiet_hours() -> list | None:
        slots = (await ana.ok("GET", url))["slots"]
        fine = slots and not any(in_quiet_hours(s, z, q) for s in slots for z, q in quiet.items())
        return slots if fine else None

    # The scheduler learns of the new quiet hours from the members' events, a moment later.
    slots = await eventually(clear_of_everyones_quiet_hours, timeout=20)
    for slot in slots:
        for zone in (BERLIN, LA):
            begins = datetime.fromisoformat(slot["starts_at"]).astimezone(zone)
            ends = datetime.fromisoformat(slot["ends_at"]).astimezone(zone)
            assert begins.hour >= 8 and (ends.hour, ends.minute) <= (22, 0)


async def test_bad_date_input_is_a_problem_not_a_crash(http):
    rid, ana, leo = await far_apart(http)
    base = f"/v1/relationships/{rid}/dates"
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    good = {"starts_at": soon, "timezone": "Europe/Berlin", "duration_minutes": 30,
            "kind": "call"}  # fmt: skip
    for bad in ({**good, "kind": "dinner"}, {**good, "timezone": "Mars/Olympus"},
                {**good, "duration_minutes": 0}, {**good, "starts_at": "2020-01-01T10:00:00Z"},
                {**good, "starts_at": "2030-01-01T10:00:00"},
                {**good, "starts_at": "2031-01-01T10:00:00Z"},
                {**good, "starts_at": "9999-12-31T23:59:00-14:00"}):  # fmt: skip
        response = await ana.post(base, bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await leo.post(f"{base}/nope/accept")).status_code == 404
    too_long = f"{base}/suggestions?duration=60&from=2030-01-01T00:00:00Z&to=2030-02-01T00:00:00Z"
    assert (await ana.get(too_long)).status_code == 422
    stranger = await sign_up(http, "Sol")
    assert (await stranger.get(base)).status_code == 404


async def test_the_review_can_be_moved_and_lists_nothing_before_its_first_month(http):
    rid, ana, leo = await far_apart(http)
    base = f"/v1/relationships/{rid}/reviews"
    assert (await leo.ok("GET", base))["reviews"] == []
    when = {"day_of_month": 5, "time": "09:00", "timezone": "Europe/Berlin"}
    moved = await ana.ok("PATCH", f"{base}/settings", when, 200)
    # 09:00 in Berlin is the middle of the night in Los Angeles: it waits until 07:00 there.
    next_at = datetime.fromisoformat(moved["next_at"])
    assert next_at.astimezone(LA).hour == 7 and next_at.astimezone(BERLIN).day == 5
    assert (await leo.get(f"{base}/nope")).status_code == 404
    bad = await ana.http.patch(f"{base}/settings", json={"day_of_month": 31}, headers=ana.headers)
    assert bad.status_code == 422
