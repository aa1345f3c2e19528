"""The trust-rebuilding program starts with its first stage, once, and can be stopped."""

from __future__ import annotations

from shared.subjects import stream_name
from tests.support.api import couple
from tests.support.streams import read_subject
from tests.support.waiting import eventually


async def test_starting_the_program_begins_its_first_stage_once(http, system, nats_client):
    rid, (eve, fin) = await couple(http, "Eve", "Fin")
    url = f"/v1/relationships/{rid}/programs/trust-rebuilding"
    assert (await eve.ok("POST", url, status=202))["status"] == "started"
    await fin.ok("POST", url, status=202)  # starting again changes nothing
    ns = system.namespace

    async def stages() -> list[str]:
        events = await read_subject(
            nats_client, stream_name(ns, "scheduler"), f"{ns}.scheduler.evt.{rid}.>"
        )
        return [e["data"]["stage"] for e in events if e["type"] == "program.stage_started"]

    assert await eventually(stages, timeout=20) == ["name_the_breach"]
    assert (await eve.delete(url)).status_code == 204
    _, (gus,) = await couple(http, "Gus")
    assert (await gus.post(url)).status_code == 404
