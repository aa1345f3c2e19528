"""Events owned by the insights service: flags, health and recommendations."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field

from shared.messages.base import EventData, register
from shared.messages.vocabulary import (
    Basis,
    FlagCode,
    MemberId,
    Pillar,
    RecommendationKind,
    Severity,
)


class _Insights(EventData):
    owner = "insights"


@register
class FlagRaised(_Insights):
    """Member-only flags travel with visibility private and the member as actor."""

    event_type = "insight.flag_raised"

    code: FlagCode
    rule_version: int = Field(ge=1)
    severity: Severity
    member_id: MemberId | None = Field(default=None, description="Set for member-only flags.")
    evidence: dict[str, Any]
    suggestion: str = Field(max_length=1000)
    raised_at: AwareDatetime
    title: str = Field(default="", max_length=200)
    summary: str = Field(default="", max_length=1000)
    basis: Basis | None = Field(
        default=None, description="one_member: built only from one member's reports."
    )


@register
class FlagCleared(_Insights):
    event_type = "insight.flag_cleared"

    code: FlagCode
    rule_version: int = Field(ge=1)
    member_id: MemberId | None = None
    raised_at: AwareDatetime
    cleared_at: AwareDatetime


@register
class HealthUpdated(_Insights):
    event_type = "insight.health_updated"

    emotional: float | None = Field(default=None, ge=0, le=100)
    intellectual: float | None = Field(default=None, ge=0, le=100)
    physical: float | None = Field(default=None, ge=0, le=100)
    overall: float | None = Field(default=None, ge=0, le=100)
    trend: dict[Pillar | str, float] = Field(default_factory=dict)
    sample_size: dict[str, int] = Field(
        default_factory=dict, description="Shared check-ins scoring each pillar in the window."
    )
    time_zone: str | None = Field(default=None, description="The zone the days are counted in.")
    as_of: AwareDatetime


@register
class RecommendationMade(_Insights):
    event_type = "insight.recommendation"

    recommendation_id: str
    kind: RecommendationKind
    pillar: Pillar | None = None
    member_id: MemberId | None = None
    text: str = Field(max_length=1000)
    text_key: str | None = Field(default=None, max_length=100)
    made_at: AwareDatetime


@register
class InsightsErasureConfirmed(_Insights):
    """This service holds nothing more about the erased member."""

    event_type = "insights.erasure_confirmed"

    erasure_id: str = Field(min_length=1, max_length=64)
    member_id: MemberId
