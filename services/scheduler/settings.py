"""Settings of the scheduler service."""

from __future__ import annotations

from typing import ClassVar

from shared.settings import BaseServiceSettings


class SchedulerSettings(BaseServiceSettings):
    service_name: ClassVar[str] = "scheduler"

    port: int = 8102
