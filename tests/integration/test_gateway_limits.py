"""Per-member and per-address rate limits answer 429 with Retry-After."""

from __future__ import annotations

import secrets

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.support.api import sign_up
from tests.support.gateway import http


async def test_a_token_over_its_rate_gets_429_with_retry_after(make_settings, nats_client, mongo):
    app = create_app(make_settings(GatewaySettings, rate_per_second=0.5, rate_burst=3))
    async with http(app) as client:
        signup = await client.post(
            "/v1/auth/signup",
            json={"email": "r@example.org", "password": "long enough pass", "display_name": "R",
                  "timezone": "UTC"},
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        statuses = [(await client.get("/v1/me", headers=headers)).status_code for _ in range(5)]
        limited = await client.get("/v1/me", headers=headers)
    assert statuses[:3] == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "too_many_requests"


async def test_log_in_attempts_are_limited_per_address(make_settings, nats_client, mongo):
    app = create_app(
        make_settings(GatewaySettings, anonymous_rate_per_second=0.1, anonymous_rate_burst=2)
    )
    async with http(app) as client:
        attempts = [
            (
                await client.post("/v1/auth/token", json={"email": "a@b.cd", "password": "x"})
            ).status_code
            for _ in range(3)
        ]
    assert attempts == [401, 401, 429]


async def test_the_member_limit_is_the_verified_members_whatever_token_is_shown(
    make_settings, nats_client, mongo
):
    app = create_app(
        make_settings(GatewaySettings, rate_per_second=0.01, rate_burst=4,
                      invalid_token_rate_per_second=1000, invalid_token_rate_burst=1000)
    )  # fmt: skip
    async with http(app) as client:
        person = await sign_up(client, "Twice")
        other = await sign_up(client, "Other")
        login = {"email": person.email, "password": "a long enough secret"}
        logged_in = await client.post("/v1/auth/token", json=login)
        second = {"Authorization": f"Bearer {logged_in.json()['access_token']}"}
        # Random tokens are refused without taking anything from any member's allowance.
        for _ in range(10):
            random = {"Authorization": f"Bearer att_{secrets.token_urlsafe(32)}"}
            assert (await client.get("/v1/me", headers=random)).status_code == 401
        statuses = [
            (await client.get("/v1/me", headers=headers)).status_code
            for headers in (person.headers, second, person.headers, second, second)
        ]
        others = (await client.get("/v1/me", headers=other.headers)).status_code
    # Two tokens of one member share one allowance of four; another member has their own.
    assert statuses == [200, 200, 200, 200, 429]
    assert others == 200
