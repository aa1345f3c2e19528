"""Dead letters through the running system: a poison message shows up in /ops/dead-letters with
its reason and metadata (never its body), is redriven onto its original subject, is purged, and
the same from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

from nats.aio.client import Client

from shared.envelope import Visibility
from shared.messages.base import model_for, new_event
from shared.nats import MSG_ID_HEADER
from tests.support.samples import SAMPLES
from tests.support.system import System
from tests.support.waiting import eventually

TOKEN = "ops-test-token"  # the e2e system's operator token (tests/e2e/conftest.py)
OPS = {"Authorization": f"Bearer {TOKEN}"}


def misplaced_bid(marker: str) -> bytes:
    """A valid bid.made whose body says relationship r_a, published under another one."""
    envelope = new_event(
        model_for("bid.made", 1).model_validate({**SAMPLES["bid.made"], "bid_id": marker}),
        relationship_id="r_a", actor_id="m_alice", visibility=Visibility.SHARED,
    )  # fmt: skip
    return envelope.to_json()


async def groups_with(http, reason: str) -> list[dict]:
    response = await http.get("/ops/dead-letters", headers=OPS)
    assert response.status_code == 200, response.text
    return [g for g in response.json()["groups"] if g["reason"] == reason]


def cli(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATTUNE_OPS_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "deploy.ops", "--api", system.api, "dead-letters", *args],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip


async def test_a_poison_message_is_listed_inspected_redriven_and_purged(
    http, system: System, nats_client: Client
):
    assert (await http.get("/ops/dead-letters")).status_code == 401
    refused = await http.post("/ops/dead-letters/insights/redrive", json={"nonsense": 1})
    assert refused.status_code == 401  # the token first: a stranger learns nothing from a 422
    assert refused.headers["content-type"] == "application/problem+json"

    marker = f"bodyonly{uuid.uuid4().hex}"
    relationship = f"r_{uuid.uuid4().hex[:12]}"
    subject = f"{system.namespace}.checkin.evt.{relationship}.bid.made"
    # The relationship in the subject is starred in the reason (one group per cause).
    reason = f"bid.made events do not belong on {system.namespace}.checkin.evt.*.bid.made"
    message_id = f"poison-{uuid.uuid4().hex}"
    await nats_client.jetstream().publish(
        subject, misplaced_bid(marker), headers={MSG_ID_HEADER: message_id}
    )

    async def insights_group() -> dict | None:
        return next((g for g in await groups_with(http, reason) if g["service"] == "insights"),
                    None)  # fmt: skip

    group = await eventually(insights_group, timeout=30)
    assert group["count"] == 1 and group["event_type"] == "bid.made"
    assert group["consumers"] == ["insights-aggregates-checkin"]
    assert group["first_seen"] == group["last_seen"]
    [sequence] = group["sequences"]

    letter = await http.get(f"/ops/dead-letters/insights/{sequence}", headers=OPS)
    assert letter.status_code == 200
    shown = letter.json()
    assert shown["subject"] == subject and shown["reason"] == reason
    assert relationship not in str(await groups_with(http, reason))
    assert shown["message_id"] == message_id and shown["owner"] == "checkin"
    assert marker not in letter.text  # metadata and reason only, never the body

    listed = await asyncio.to_thread(cli, system, "list")
    assert listed.returncode == 0, listed.stderr
    assert reason in listed.stdout and "insights" in listed.stdout

    # Redrive: the owner publishes it back onto its subject; it is consumed again (and, still
    # misplaced, dead-lettered again under a new sequence); the old letter is gone.
    redriven = await http.post("/ops/dead-letters/insights/redrive", headers=OPS,
                               json={"sequence": sequence})  # fmt: skip
    assert redriven.status_code == 200, redriven.text
    assert redriven.json() == {"selected": 1, "redriven": 1, "already_redriven": 0, "failed": []}
    gone = await http.get(f"/ops/dead-letters/insights/{sequence}", headers=OPS)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"

    async def dead_again() -> dict | None:
        found = await insights_group()
        return found if found and found["sequences"] and found["sequences"][0] > sequence else None

    await eventually(dead_again, timeout=30)
    again = await http.post("/ops/dead-letters/insights/redrive", headers=OPS,
                            json={"sequence": sequence})  # fmt: skip
    assert again.status_code == 404  # a second redrive of that letter changes nothing

    for bad in ({}, {"reason": "x", "sequence": 1}, {"sequence": 0}, {"reason": ""}):
        response = await http.post("/ops/dead-letters/insights/redrive", headers=OPS, json=bad)
        assert response.status_code == 422, (bad, response.text)
    unknown = await http.get("/ops/dead-letters/billing/1", headers=OPS)
    assert unknown.status_code == 404
    for params in ({}, {"reason": reason, "all": "true"}):  # never a whole queue by accident
        refused = await http.delete("/ops/dead-letters/insights", headers=OPS, params=params)
        assert refused.status_code == 422, (params, refused.text)

    # Purge: by reason over HTTP for every service that holds it, one of them from the CLI.
    services = {g["service"] for g in await groups_with(http, reason)}
    assert "insights" in services
    purged = await asyncio.to_thread(cli, system, "purge", "insights", "--reason", reason)
    assert purged.returncode == 0, purged.stderr
    assert json.loads(purged.stdout)["removed"] >= 1
    for service in services - {"insights"}:
        response = await http.delete(f"/ops/dead-letters/{service}", headers=OPS,
                                     params={"reason": reason})  # fmt: skip
        assert response.status_code == 200 and response.json()["removed"] >= 1
    assert await groups_with(http, reason) == []


async def test_services_export_the_figures_the_alert_rules_use(http, system: System):
    async def scraped() -> str | None:
        text = (await http.get(f"{system.urls('insights')[0]}/metrics")).text
        wanted = ('attune_consumer_pending_messages{consumer="insights-aggregates-checkin"}',
                  'attune_consumer_ack_pending_messages{consumer="insights-aggregates-checkin"}',
                  "attune_ready 1.0", "attune_outbox_pending_events ",
                  "attune_outbox_oldest_pending_seconds ")  # fmt: skip
        return text if all(w in text for w in wanted) else None

    await eventually(scraped, timeout=30)
