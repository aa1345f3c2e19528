"""Private entries stay with their author: in timelines and in the live stream."""

from __future__ import annotations

import asyncio
import json

from tests.support.api import Person, couple
from tests.support.live import listen


async def read_events(
    person: Person,
    rid: str,
    count: int,
    last_id: str | None = None,
    opened: asyncio.Event | None = None,
) -> list[dict]:
    """`count` events about entries; events about the relationship itself (a member joining)
    carry no subject and are skipped."""

    def about_entries(events: list[dict]) -> list[dict]:
        return [e for e in events if e["data"].get("subject")]

    events = await listen(
        person, rid, lambda seen: len(about_entries(seen)) >= count, last_id, opened
    )
    return about_entries(events)[:count]


async def test_a_private_entry_is_absent_from_the_partners_timeline_and_stream(http):
    rid, (ida, jo) = await couple(http, "Ida", "Jo")
    base = f"/v1/relationships/{rid}"
    jo_open, ida_open = asyncio.Event(), asyncio.Event()
    jo_listening = asyncio.create_task(read_events(jo, rid, 2, opened=jo_open))
    ida_listening = asyncio.create_task(read_events(ida, rid, 3, opened=ida_open))
    await asyncio.wait_for(asyncio.gather(jo_open.wait(), ida_open.wait()), 20)
    private = await ida.ok("POST", f"{base}/checkins", {"mood": 2, "connection": 3, "note": "mine"})
    shared = await ida.ok(
        "POST", f"{base}/checkins", {"mood": 4, "connection": 8, "visibility": "shared"}
    )
    touch = await jo.ok("POST", f"{base}/touches", {"kind": "hug", "sexual": False,
                        "visibility": "shared"})  # fmt: skip
    jo_saw = await asyncio.wait_for(jo_listening, 20)
    ida_saw = await asyncio.wait_for(ida_listening, 20)

    jo_subjects = [e["data"]["subject"] for e in jo_saw]
    assert jo_subjects == [shared["id"], touch["id"]]
    assert private["id"] not in json.dumps(jo_saw)
    assert [e["data"]["subject"] for e in ida_saw] == [private["id"], shared["id"], touch["id"]]

    jo_timeline = await jo.ok("GET", f"{base}/timeline")
    assert private["id"] not in [e["id"] for e in jo_timeline["entries"]]
    assert "mine" not in json.dumps(jo_timeline)


async def test_the_stream_resumes_after_the_last_event_id(http):
    rid, (liv, noa) = await couple(http, "Liv", "Noa")
    base = f"/v1/relationships/{rid}"
    noa_open = asyncio.Event()
    first_task = asyncio.create_task(read_events(noa, rid, 1, opened=noa_open))
    await asyncio.wait_for(noa_open.wait(), 20)
    one = await liv.ok("POST", f"{base}/touches", {"kind": "kiss", "sexual": False,
                       "visibility": "shared"})  # fmt: skip
    (first,) = await asyncio.wait_for(first_task, 20)
    assert first["data"]["subject"] == one["id"]
    # While Noa is away, two more things happen.
    two = await liv.ok("POST", f"{base}/bids", {"to_member_id": noa.id, "kind": "play",
                       "channel": "message"})  # fmt: skip
    three = await liv.ok("POST", f"{base}/touches", {"kind": "hug", "sexual": False,
                         "visibility": "shared"})  # fmt: skip
    # Resuming reads from where Noa left: whenever the two are published, they arrive.
    resumed = await asyncio.wait_for(read_events(noa, rid, 2, last_id=first["id"]), 20)
    assert [e["data"]["subject"] for e in resumed] == [two["id"], three["id"]]


async def test_a_bad_last_event_id_is_a_422(http):
    rid, (uma,) = await couple(http, "Uma")
    response = await uma.get(
        f"/v1/relationships/{rid}/stream", headers={"Last-Event-ID": "not-a-position"}
    )
    assert response.status_code == 422
