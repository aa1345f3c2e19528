"""Settings of the checkin service."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from shared.settings import BaseServiceSettings


class CheckinSettings(BaseServiceSettings):
    service_name: ClassVar[str] = "checkin"

    port: int = 8101
    master_keys: SecretStr | None = Field(
        default=None,
        description="id:base64(32 bytes)[,id:...]; the current one wraps new data keys, all "
        "unwrap (add a new one, rewrap, then remove the old one to rotate).",
    )
    master_key_id: str | None = Field(default=None, description="The current master key id.")
    max_rituals_per_relationship: int = Field(
        default=50, ge=1, description="Rituals one relationship may keep (each one fires events)."
    )
