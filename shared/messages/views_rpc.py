"""Queries the gateway forwards to the scheduler and insights services, and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.messages.vocabulary import FlagCode, RecommendationKind, Severity


class ScheduleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleQuery:
        if self.end <= self.start:
            raise ValueError("the end must come after the start")
        if (self.end - self.start).days > 92:
            raise ValueError("a schedule spans at most 92 days")
        return self


class ScheduleItem(BaseModel):
    kind: str = Field(description="ritual, checkin_reminder, boundary_window, review, ...")
    ref_id: str | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    local_time: str | None = Field(default=None, description="The caller's local wall time.")
    status: str | None = Field(default=None, description="A date's status: proposed, accepted.")
    local_times: dict[str, str] | None = Field(
        default=None, description="A date's start in every member's local time."
    )


class Schedule(BaseModel):
    items: list[ScheduleItem] = Field(default_factory=list)


class InsightsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Flag(BaseModel):
    code: FlagCode
    severity: Severity
    raised_at: datetime
    evidence: dict[str, Any]
    suggestion: str


class Health(BaseModel):
    emotional: float | None = None
    intellectual: float | None = None
    physical: float | None = None
    overall: float | None = None
    trend: dict[str, float] = Field(default_factory=dict)


class Recommendation(BaseModel):
    kind: RecommendationKind
    text: str
    pillar: str | None = None


class Insights(BaseModel):
    flags: list[Flag] = Field(default_factory=list)
    health: Health = Field(default_factory=Health)
    strengths: list[dict[str, Any]] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
