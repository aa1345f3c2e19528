"""Settings of the checkin service."""

from __future__ import annotations

from typing import ClassVar

from shared.settings import BaseServiceSettings


class CheckinSettings(BaseServiceSettings):
    service_name: ClassVar[str] = "checkin"

    port: int = 8101
