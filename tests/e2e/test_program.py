"""The trust-rebuilding program starts only once every member accepted, shows its prompts in
words, starts its first stage once, and can be stopped."""

from __future__ import annotations

from shared.subjects import relationship_events, stream_name
from tests.support.api import couple
from tests.support.streams import read_subject
from tests.support.waiting import eventually


async def test_the_program_starts_once_every_member_accepted_and_shows_its_words(
    http, system, nats_client
):
    rid, (eve, fin) = await couple(http, "Eve", "Fin")
    url = f"/v1/relationships/{rid}/program"
    assert (await eve.ok("GET", url))["status"] == "none"
    proposed = await eve.ok("POST", url, status=201)
    assert proposed["status"] == "proposed" and proposed["prompts"] == []
    assert (await eve.ok("POST", f"{url}/accept", status=200))[
        "status"
    ] == "proposed"  # still waits for Fin
    active = await fin.ok("POST", f"{url}/accept", status=200)
    assert active["status"] == "active" and active["stage"] == "name_the_breach"
    assert len(active["prompts"]) >= 3 and all(
        p["text"] and p["text_key"] for p in active["prompts"]
    )
    assert active["ends_at"] > active["started_at"]
    ns = system.namespace

    async def stages() -> list[str]:
        events = await read_subject(
            nats_client, stream_name(ns, "scheduler"), relationship_events(ns, "scheduler", rid)
        )
        return [e["data"]["stage"] for e in events if e["type"] == "program.stage_started"]

    assert await eventually(stages, timeout=20) == ["name_the_breach"]
    await eve.ok("POST", url, status=201)  # proposing a running program changes nothing
    assert (await eve.delete(url)).status_code == 204
    assert (await fin.ok("GET", url))["status"] == "none"
    _, (gus,) = await couple(http, "Gus")
    assert (await gus.post(url)).status_code == 404
