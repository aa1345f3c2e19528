"""Per-token and per-address rate limits answer 429 with Retry-After."""

from __future__ import annotations

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
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
