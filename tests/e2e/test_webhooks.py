"""Webhooks to a real receiver on loopback, verified with the standardwebhooks library."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.api import couple
from tests.support.receiver import Receiver
from tests.support.waiting import eventually


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


async def subscribe(person, rid: str, url: str, types: list[str] | None = None) -> dict:
    return await person.ok("POST", f"/v1/relationships/{rid}/webhooks",
                           {"url": url, "event_types": types or ["checkin.logged"]})  # fmt: skip


async def test_a_shared_checkin_is_delivered_signed_and_a_private_one_never_leaves(http, receiver):
    rid, (ivy, jon) = await couple(http, "Ivy", "Jon")
    hook = await subscribe(ivy, rid, receiver.url)
    assert hook["secret"].startswith("whsec_")
    listed = await jon.ok("GET", f"/v1/relationships/{rid}/webhooks")
    assert "secret" not in listed[0]
    private = await ivy.ok(
        "POST", f"/v1/relationships/{rid}/checkins", {"mood": 2, "connection": 3}
    )
    shared = await ivy.ok("POST", f"/v1/relationships/{rid}/checkins",
                          {"mood": 4, "connection": 8, "visibility": "shared"})  # fmt: skip

    await eventually(lambda: len(receiver.received) >= 1, timeout=20)
    delivery = receiver.received[0]
    verified = Webhook(hook["secret"]).verify(delivery.body, delivery.headers)
    assert verified["subject"] == shared["id"]
    assert private["id"] not in b"".join(r.body for r in receiver.received).decode()
    attempts = await ivy.ok("GET", f"/v1/relationships/{rid}/webhooks/{hook['id']}/deliveries")
    assert [(a["status"], a["response_code"]) for a in attempts] == [("delivered", 200)]


async def test_a_failing_receiver_gets_it_on_a_retry_and_one_that_always_fails_is_disabled(http):
    flaky, dead = Receiver(fail_first=2).start(), Receiver(always_fail=True).start()
    try:
        rid, (kim, lou) = await couple(http, "Kim", "Lou")
        await subscribe(kim, rid, flaky.url)
        broken = await subscribe(kim, rid, dead.url)
        sent = await kim.ok("POST", f"/v1/relationships/{rid}/checkins",
                            {"mood": 4, "connection": 8, "visibility": "shared"})  # fmt: skip
        await eventually(lambda: len(flaky.received) == 1, timeout=20)
        assert json.loads(flaky.received[0].body)["subject"] == sent["id"]
        assert flaky.attempts == 3

        async def disabled() -> dict | None:
            hooks = await lou.ok("GET", f"/v1/relationships/{rid}/webhooks")
            found = next(h for h in hooks if h["id"] == broken["id"])
            return found if found["disabled"] else None

        hook = await eventually(disabled, timeout=20)
        assert "failed after every retry" in hook["disabled_reason"]
        base = f"/v1/relationships/{rid}/webhooks/{broken['id']}/deliveries"
        (failed,) = await kim.ok("GET", base)
        assert failed["status"] == "failed" and len(failed["attempts"]) == 4

        dead.always_fail = False  # the receiver is fixed; a member retries by hand
        assert (await kim.post(f"{base}/{failed['id']}/retry")).status_code == 202
        await eventually(lambda: len(dead.received) == 1, timeout=20)
    finally:
        flaky.stop()
        dead.stop()


async def test_destinations_must_be_public_https(http):
    rid, (max_,) = await couple(http, "Max")
    for url in ("http://10.0.0.1/x", "https://169.254.169.254/latest", "ftp://example.org/x",
                "https://user:pw@example.org/x"):  # fmt: skip
        response = await max_.post(f"/v1/relationships/{rid}/webhooks", {"url": url})
        assert (response.status_code, response.json()["field"]) == (422, "url"), url


async def test_a_gateway_killed_mid_retry_still_delivers_once(http, system):
    receiver = Receiver(always_fail=True).start()
    try:
        rid, (ned, _) = await couple(http, "Ned", "Ola")
        await subscribe(ned, rid, receiver.url)
        sent = await ned.ok("POST", f"/v1/relationships/{rid}/checkins",
                            {"mood": 5, "connection": 9, "visibility": "shared"})  # fmt: skip
        await eventually(lambda: receiver.attempts >= 1, timeout=20)
        system.kill_and_restart("gateway")  # the retry state lives in MongoDB, not in the process
        receiver.always_fail = False
        await eventually(lambda: len(receiver.received) >= 1, timeout=30)
        assert [json.loads(r.body)["subject"] for r in receiver.received] == [sent["id"]]
    finally:
        receiver.stop()


async def test_newer_events_wait_behind_one_being_retried_then_follow_in_order(http):
    receiver = Receiver(fail_first=2).start()
    try:
        rid, (pat, _) = await couple(http, "Pat", "Quin")
        await subscribe(pat, rid, receiver.url)
        url, body = f"/v1/relationships/{rid}/checkins", {"connection": 7, "visibility": "shared"}
        sent = [await pat.ok("POST", url, {**body, "mood": 3 + i}) for i in range(3)]
        await eventually(lambda: len(receiver.received) == 3, timeout=20)
        assert [json.loads(r.body)["subject"] for r in receiver.received] == [s["id"] for s in sent]
        assert receiver.attempts == 5  # the first twice refused, then each once
    finally:
        receiver.stop()
