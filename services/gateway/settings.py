"""Settings of the gateway."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from shared.settings import BaseServiceSettings

# Public (it is in this repository): only ever for development and tests.
DEVELOPMENT_WEBHOOK_KEY = "ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLWtleSEhISE"


class GatewaySettings(BaseServiceSettings):
    service_name: ClassVar[str] = "gateway"

    port: int = 8000
    ops_token: SecretStr | None = Field(default=None, description="Opens /ops; nothing else.")
    readiness_timeout_seconds: float = Field(default=1.0, gt=0)
    token_ttl_days: float = Field(
        default=30, gt=0, description="How long a bearer token lives (a fraction of a day too)."
    )
    invite_ttl_hours: int = Field(default=48, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rate_per_second: float = Field(
        default=20, gt=0, description="Requests per verified member per second, over all tokens."
    )
    rate_burst: int = Field(default=60, ge=1)
    anonymous_rate_per_second: float = Field(
        default=2, gt=0, description="Sign-up and log-in attempts per client address per second."
    )
    anonymous_rate_burst: int = Field(default=10, ge=1)
    invalid_token_rate_per_second: float = Field(
        default=1, gt=0, description="Invalid bearer tokens per client address per second."
    )
    invalid_token_rate_burst: int = Field(default=20, ge=1)
    account_rate_per_second: float = Field(
        default=0.1, gt=0, description="Failed log-ins per account per second, from anywhere."
    )
    account_rate_burst: int = Field(default=5, ge=1)
    rate_limit_keys: int = Field(
        default=50_000, ge=100, description="Keys each rate limiter remembers at most."
    )
    password_workers: int = Field(
        # One is enough: each argon2id hash already runs 4 lanes in parallel on all cores.
        default=1,
        ge=1,
        description="Threads hashing and verifying passwords (argon2id).",
    )
    password_queue: int = Field(
        default=64, ge=1, description="Sign-ins that may wait for a password thread; more: 429."
    )
    access_cache_seconds: float = Field(
        default=5,
        ge=0,
        description="How long a replica remembers a verified token and a relationship's "
        "members (0: never). Revocations and membership changes are forgotten at once.",
    )
    access_cache_entries: int = Field(
        default=10_000, ge=1, description="Tokens, and relationships, each replica remembers."
    )
    max_streams_per_member: int = Field(default=5, ge=1)
    max_webhooks_per_relationship: int = Field(default=10, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    idempotency_abandoned_seconds: float = Field(
        default=30,
        gt=0,
        description="A request that held its Idempotency-Key this long died half way; "
        "a retry may take the key over.",
    )
    web_dir: Path | None = Field(
        default=None, description="The web app's files, served at /app/ (default: web/)."
    )
    stream_heartbeat_seconds: float = Field(default=15, gt=0)
    webhook_key: SecretStr | None = Field(
        default=None,
        description="Encrypts webhook signing secrets at rest and keys the sealing of "
        "live-stream positions and recorded Idempotency-Key answers (32 bytes, base64).",
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
    webhook_linger_seconds: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="How long the webhook consumers let events gather after a batch that was "
        "not full: each batch reads the endpoints once (adds at most this to a delivery).",
    )
    webhook_delivery_ttl_days: float = Field(
        default=30, gt=0, description="Delivery records (each holds a whole event) expire."
    )
    stream_replay_horizon_hours: float = Field(
        default=24, gt=0, description="How far back the live stream replays, at most."
    )

    @model_validator(mode="after")
    def _real_keys_in_production(self) -> GatewaySettings:
        if self.environment != "production":
            return self
        key = "" if self.webhook_key is None else self.webhook_key.get_secret_value().strip()
        if not key or key.rstrip("=") == DEVELOPMENT_WEBHOOK_KEY:
            raise ValueError(
                "production needs a real webhook key in ATTUNE_WEBHOOK_KEY (32 random bytes, "
                "base64), never the public development key"
            )
        if self.webhook_allow_loopback_http:
            raise ValueError("ATTUNE_WEBHOOK_ALLOW_LOOPBACK_HTTP is for local development only")
        return self
