"""Settings of the scheduler."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import BaseServiceSettings


class SchedulerSettings(BaseServiceSettings):
    service_name: ClassVar[str] = "scheduler"

    port: int = 8102
    tick_seconds: float = Field(
        default=30,
        gt=0,
        description="The firing tick's safety timer: it sleeps until the next item is due or "
        "a schedule changes, and looks at least this often.",
    )
    lease_seconds: float = Field(default=30, gt=0, description="A claimed item's lease.")
    grace_seconds: float = Field(
        default=15 * 60, ge=0, description="After downtime, what is this late still fires."
    )
    review_hour_utc: int = Field(default=10, ge=0, le=23)
    backoff_every_days: int = Field(
        default=3, ge=2, description="During burnout, a reminder only every this many days."
    )
