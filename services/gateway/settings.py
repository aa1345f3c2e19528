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
    stream_heartbeat_seconds: float = Field(default=15, gt=0)
