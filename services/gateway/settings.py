"""Settings of the gateway."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from shared.settings import BaseServiceSettings


class GatewaySettings(BaseServiceSettings):
    service_name: ClassVar[str] = "gateway"

    port: int = 8000
    ops_token: SecretStr | None = Field(default=None, description="Opens /ops; nothing else.")
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    token_ttl_days: int = Field(default=30, ge=1)
    invite_ttl_hours: int = Field(default=48, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rate_per_second: float = Field(default=20, gt=0, description="Requests per token per second.")
    rate_burst: int = Field(default=60, ge=1)
    anonymous_rate_per_second: float = Field(
        default=2, gt=0, description="Sign-up and log-in attempts per client address per second."
    )
    anonymous_rate_burst: int = Field(default=10, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    idempotency_abandoned_seconds: float = Field(
        default=30,
        gt=0,
        description="A request that held its Idempotency-Key this long died half way; "
        "a retry may take the key over.",
    )
    stream_heartbeat_seconds: float = Field(default=15, gt=0)
    webhook_key: SecretStr | None = Field(
        default=None, description="Encrypts webhook signing secrets at rest (32 bytes, base64)."
    )
    webhook_allow_loopback_http: bool = Field(
        default=False, description="Local development only: allow http://127.0.0.1 receivers."
    )
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    webhook_retry_seconds: list[float] = Field(
        # About a day in all: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
        default=[5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800],
        min_length=1,
    )
    webhook_disable_after: int = Field(
        default=3, ge=1, description="Deliveries failing for good in a row before disabling."
    )
    webhook_tick_seconds: float = Field(
        default=30,
        gt=0,
        description="The dispatcher's safety timer: it wakes for new deliveries and when the "
        "next one falls due, and looks at least this often.",
    )
