"""Typed settings shared by every service, read from `ATTUNE_*` environment variables."""

from __future__ import annotations

import sys
from typing import ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.subjects import database_name

Environment = Literal["development", "test", "production"]

# Values that show a secret was never set; refused outside development and test.
_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "changethis", "secret", "dev"}


class BaseServiceSettings(BaseSettings):
    """What every service needs: where NATS and MongoDB are, naming, health and logs."""

    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    service_name: ClassVar[str] = "attune"

    environment: Environment = "development"
    namespace: str = Field(
        default="attune",
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="Root of every subject, stream and database name; lets several "
        "deployments (or test runs) share one NATS and one MongoDB without meeting.",
    )
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long to look for MongoDB before a typed error."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="HTTP port for health and metrics.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    request_timeout_seconds: float = Field(default=5.0, gt=0)
    dedup_window_seconds: float = Field(
        default=2 * 3600, gt=0, description="JetStream de-duplication window for event ids."
    )
    max_deliver: int = Field(default=20, ge=2, description="Deliveries before dead-lettering.")
    ack_wait_seconds: float = Field(default=30, gt=0)
    stream_replicas: int = Field(
        default=1, ge=1, le=5, description="JetStream replicas of each stream (3 in a cluster)."
    )
    outbox_poll_seconds: float = Field(
        default=30,
        gt=0,
        description="The relay's safety timer: writes wake it at once; this catches the rest "
        "(events written by another replica while this one held the lease).",
    )
    outbox_lease_seconds: float = Field(default=10, gt=0)
    gauge_sample_seconds: float = Field(
        default=15,
        gt=0,
        # Prometheus scrapes every 15 s by default: sampling more often costs database reads
        # with nothing happening (three a round per service) and shows no one anything more.
        description="How often consumer lag, outbox depth and readiness are sampled.",
    )
    consumer_batch_size: int = Field(
        default=100, ge=1, le=1000, description="Events a batch consumer takes and applies at once."
    )
    consumer_linger_seconds: float = Field(
        # One second: under ingest load batches fill up to ~100 (a few writes per 100
        # events); a quarter second gave 0.42 of the ingest ceiling against 0.47 (the mean of
        # nine alternating rounds each, bench/ingest.py). The first event after a quiet spell
        # is applied at once all the same.
        default=1.0,
        ge=0,
        le=5,
        description="How long an aggregating batch consumer lets events gather after a batch "
        "that was not full.",
    )
    shutdown_grace_seconds: float = Field(default=10, gt=0)

    @property
    def database_name(self) -> str:
        return database_name(self.namespace, self.service_name)

    @field_validator("nats_url", "mongo_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> BaseServiceSettings:
        if self.environment != "production":
            return self
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and (
                value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS
            ):
                raise ValueError(f"{name} holds a placeholder value; set a real secret")
        return self


S = TypeVar("S", bound=BaseServiceSettings)


def load_settings(cls: type[S]) -> S:
    """The service's settings from the environment; on a refusal the process ends with a plain
    message for the operator (what is wrong, which variable) instead of a traceback."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(
            f"ATTUNE_{'__'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            if error["loc"] else str(error["msg"])
            for error in exc.errors()
        )  # fmt: skip
        sys.exit(f"attune-{cls.service_name} cannot start: {problems}")


# Public (it is in this repository): only ever for development and tests.
DEVELOPMENT_MASTER_KEYS = "dev:ZGV2ZWxvcG1lbnQtb25seS1ub3QtYS1zZWNyZXQtISE"


class SealingSettings(BaseServiceSettings):
    """A service that seals members' text at rest under master-key-wrapped data keys."""

    master_keys: SecretStr | None = Field(
        default=None,
        description="id:base64(32 bytes)[,id:...]; the current one wraps new data keys, all "
        "unwrap (add a new one, rewrap, then remove the old one to rotate).",
    )
    master_key_id: str | None = Field(default=None, description="The current master key id.")

    @model_validator(mode="after")
    def _real_keys_in_production(self) -> SealingSettings:
        if self.environment != "production":
            return self
        spec = "" if self.master_keys is None else self.master_keys.get_secret_value()
        development = DEVELOPMENT_MASTER_KEYS.partition(":")[2]
        if not spec.strip() or development in spec:
            raise ValueError(
                "production needs real master keys in ATTUNE_MASTER_KEYS, never the public "
                "development key (make one: python -c 'from shared.crypto import "
                'generate_master_key_spec as g; print(g("k1"))\')'
            )
        return self
