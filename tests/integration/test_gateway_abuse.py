"""One client cannot flood or stall the gateway: random tokens are throttled per address before
they cost a lookup, Idempotency-Key records exist only for signed-in members on real routes, and
argon2 runs off the event loop."""

from __future__ import annotations

import asyncio
import secrets
import threading
from typing import Any

import httpx
from argon2 import PasswordHasher

from services.gateway import store
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.nats import declare_stream, event_stream_config
from shared.subjects import SERVICES, database_name
from tests.support.api import couple, sign_up
from tests.support.gateway import http


async def test_random_tokens_from_one_address_are_throttled(make_settings, nats_client, mongo):
    app = create_app(
        make_settings(GatewaySettings, invalid_token_rate_per_second=0.1,
                      invalid_token_rate_burst=5)
    )  # fmt: skip
    async with http(app) as client:
        statuses = [
            (
                await client.get(
                    "/v1/me", headers={"Authorization": f"Bearer att_{secrets.token_urlsafe(32)}"}
                )
            ).status_code
            for _ in range(8)
        ]
        elsewhere = httpx.ASGITransport(app=app, client=("127.0.0.2", 40000))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://gateway") as other:
            person = await sign_up(other, "Valid")
            still_served = await other.get("/v1/me", headers=person.headers)
    assert statuses == [401] * 5 + [429] * 3
    assert still_served.status_code == 200  # another address is not held back


async def test_a_revoked_token_gets_401_not_a_replay(make_settings, nats_client, mongo, namespace):
    app = create_app(make_settings(GatewaySettings))
    db: Any = mongo[database_name(namespace, "gateway")]
    async with http(app) as client:
        sam = await sign_up(client, "Sam")
        first = await sam.post("/v1/relationships", {"name": "us"}, key="create-1")
        again = await sam.post("/v1/relationships", {"name": "us"}, key="create-1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers.get("idempotent-replayed") == "true"
        assert (await sam.post("/v1/auth/logout")).status_code == 204
        after_logout = await sam.post("/v1/relationships", {"name": "us"}, key="create-1")
        records = await db[store.IDEMPOTENCY].count_documents({})
        # Nobody signed in, or no such route: nothing is recorded.
        for n in range(5):
            await client.post("/v1/relationships", json={"name": "x"},
                              headers={"Idempotency-Key": f"anon-{n}"})  # fmt: skip
            await sam.post("/v1/no-such-route", {"x": 1}, key=f"unknown-{n}")
        other = await sign_up(client, "Other")
        await other.post("/v1/no-such-route", {"x": 1}, key="unknown-route")
        unchanged = await db[store.IDEMPOTENCY].count_documents({})
    assert after_logout.status_code == 401
    assert after_logout.headers["content-type"].startswith("application/problem+json")
    assert "idempotent-replayed" not in after_logout.headers
    assert unchanged == records == 1


async def test_guessing_one_accounts_password_from_many_addresses_is_throttled(
    make_settings, nats_client, mongo
):
    app = create_app(make_settings(GatewaySettings, account_rate_per_second=0.01,
                                   account_rate_burst=3))  # fmt: skip
    statuses = []
    async with http(app) as client:
        person = await sign_up(client, "Guessed")
        for n in range(5):  # each guess from another address: the per-address limit never bites
            transport = httpx.ASGITransport(app=app, client=(f"127.0.1.{n + 1}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as other:
                guess = {"email": person.email, "password": f"guess number {n}"}
                statuses.append((await other.post("/v1/auth/token", json=guess)).status_code)
    assert statuses == [401, 401, 401, 429, 429]


async def test_the_gateway_answers_while_a_sign_in_is_stuck_in_argon2(
    make_settings, nats_client, mongo, monkeypatch
):
    """argon2 runs off the event loop: with a verify held inside argon2, other requests are
    still answered. On the loop, the held verify would hold every request with it."""
    app = create_app(make_settings(GatewaySettings))
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    verify = PasswordHasher.verify

    def held_verify(self: PasswordHasher, hash: str, password: str) -> bool:
        entered.set()
        try:
            # Bounded, so that code verifying on the loop fails this test instead of hanging.
            release.wait(timeout=10)
            return verify(self, hash, password)
        finally:
            left.set()

    async with http(app) as client:
        person = await sign_up(client, "Patient")
        monkeypatch.setattr(PasswordHasher, "verify", held_verify)
        credentials = {"email": person.email, "password": "a long enough secret"}
        signing_in = asyncio.create_task(client.post("/v1/auth/token", json=credentials))
        try:
            assert await asyncio.to_thread(entered.wait, 10)
            health = await asyncio.wait_for(client.get("/healthz"), timeout=10)
            me = await asyncio.wait_for(client.get("/v1/me", headers=person.headers), timeout=10)
            answered_while_held = not left.is_set()
        finally:
            release.set()
        signed_in = await asyncio.wait_for(signing_in, timeout=30)
    assert (health.status_code, me.status_code) == (200, 200)
    assert answered_while_held, "the requests waited for argon2: it ran on the event loop"
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["access_token"]


async def test_a_relationship_holds_at_most_ten_webhooks(make_settings, nats_client, mongo):
    app = create_app(make_settings(GatewaySettings, webhook_allow_loopback_http=True))
    async with http(app) as client:
        rid, (sam,) = await couple(client, "Hooked")
        path = f"/v1/relationships/{rid}/webhooks"
        for n in range(10):
            await sam.ok("POST", path, {"url": f"http://127.0.0.1:9/hook-{n}"})
        eleventh = await sam.post(path, {"url": "http://127.0.0.1:9/hook-10"})
        listed = await sam.ok("GET", path)
        # Removing one makes room again.
        assert (await sam.delete(f"{path}/{listed[0]['id']}")).status_code == 204
        after_removal = await sam.post(path, {"url": "http://127.0.0.1:9/hook-10"})
    assert eleventh.status_code == 409, eleventh.text
    assert eleventh.headers["content-type"].startswith("application/problem+json")
    assert eleventh.json()["code"] == "webhook_limit_reached"
    assert len(listed) == 10
    assert after_removal.status_code == 201, after_removal.text


async def test_a_live_stream_ends_when_its_token_expires(make_settings, nats_client, mongo):
    # Tokens live four seconds; the stream looks at its token every half second.
    settings = make_settings(GatewaySettings, token_ttl_days=4 / 86400,
                             stream_heartbeat_seconds=0.5)  # fmt: skip
    for owner in SERVICES:  # the other services' event streams, which the live stream reads
        await declare_stream(nats_client, event_stream_config(settings, owner))
    app = create_app(settings)
    async with http(app) as client:
        rid, (sam,) = await couple(client, "Fleeting")
        # In-process, the answer comes once the stream has ended (ASGI gives it whole).
        ended = await asyncio.wait_for(
            client.get(f"/v1/relationships/{rid}/stream", headers=sam.headers), timeout=30
        )
        expired = await client.get("/v1/me", headers=sam.headers)
    assert ended.status_code == 200, ended.text
    assert ended.headers["content-type"].startswith("text/event-stream")
    assert expired.status_code == 401
