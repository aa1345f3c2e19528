"""Settings of the insights service."""

from __future__ import annotations

from typing import ClassVar

from shared.settings import BaseServiceSettings


class InsightsSettings(BaseServiceSettings):
    service_name: ClassVar[str] = "insights"

    port: int = 8103
