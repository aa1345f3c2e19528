"""Settings of the checkin service."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from shared.settings import BaseServiceSettings

# Public (it is in this repository): only ever for development and tests.
DEVELOPMENT_MASTER_KEYS = "dev:ZGV2ZWxvcG1lbnQtb25seS1ub3QtYS1zZWNyZXQtISE"


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

    @model_validator(mode="after")
    def _real_keys_in_production(self) -> CheckinSettings:
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
