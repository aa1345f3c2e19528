"""Settings of the scheduler."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import SealingSettings


class SchedulerSettings(SealingSettings):  # seals date plans at rest
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
    review_time: str = Field(
        default="10:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="A new relationship's monthly review, local to its creator (then moved "
        "out of every member's quiet hours).",
    )
    backoff_every_days: int = Field(
        default=3, ge=2, description="During burnout, a reminder only every this many days."
    )
