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
