"""Settings of the checkin service."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import DEVELOPMENT_MASTER_KEYS, SealingSettings

__all__ = ["DEVELOPMENT_MASTER_KEYS", "CheckinSettings"]


class CheckinSettings(SealingSettings):
    service_name: ClassVar[str] = "checkin"

    port: int = 8101
    command_record_ttl_hours: float = Field(
        default=72,
        gt=0,
        description="How long a command's fingerprint and result are kept to answer its retries "
        "(pruned hourly; a repeat after that is a 409).",
    )
    max_rituals_per_relationship: int = Field(
        default=50, ge=1, description="Rituals one relationship may keep (each one fires events)."
    )
