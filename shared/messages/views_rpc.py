"""Queries the gateway forwards to the scheduler and insights services, and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.messages.asks import Anything, Asks
from shared.messages.flag_evidence import describe as describe_evidence
from shared.messages.vocabulary import (
    NOTE_MAX,
    Basis,
    FlagAnswer,
    FlagCode,
    RecommendationKind,
    Severity,
)


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


class FlagResponse(BaseModel):
    """A member's answer to a relationship-wide flag, shown to every member."""

    member_id: str
    answer: FlagAnswer
    note: str | None = Field(default=None, description="Kept sealed at rest.")
    at: datetime


class Flag(BaseModel):
    code: FlagCode
    title: str = Field(description="A stable, plain-English title for the pattern.")
    summary: str = Field(description="What the pattern is, in one sentence.")
    text_key: str = Field(description="Key for translating title, summary and suggestion.")
    severity: Severity
    rule_version: int
    basis: Basis = Field(
        description="one_member: built only from one member's reports about something shared "
        "(the other member may answer it); both_members: more than one member's reports, or "
        "shared counts."
    )
    raised_at: datetime
    evidence: dict[str, Any] = Field(description=describe_evidence())
    suggestion: str
    responses: list[FlagResponse] = Field(default_factory=list)
    can_respond: bool = Field(default=False, description="Whether you may still answer it.")


class Health(BaseModel):
    """Scores 0-100 per pillar from shared check-ins over a window; none below the minimum
    sample, and a trend only when the window before has one too."""

    emotional: float | None = None
    intellectual: float | None = None
    physical: float | None = None
    overall: float | None = None
    trend: dict[str, float] = Field(default_factory=dict)
    sample_size: dict[str, int] = Field(
        default_factory=dict,
        description="Check-ins scoring each pillar (overall: all) in the window.",
    )
    window_days: int | None = None
    min_sample: int | None = None
    as_of: datetime | None = None
    time_zone: str | None = Field(
        default=None,
        description="Relationship-wide days are counted in this zone (its earliest member's).",
    )


class Recommendation(BaseModel):
    id: str = Field(description="Answer it with .../recommendations/{id}/dismiss or /done.")
    kind: RecommendationKind
    text: str
    text_key: str
    pillar: str | None = None
    params: dict[str, list[str]] | None = Field(
        default=None,
        description="What the text names, for an app translating by text_key: share_a_need"
        " has `needs` (need codes, the most named first; `text` joins them with 'and').",
    )


class Strength(BaseModel):
    model_config = ConfigDict(extra="allow")  # details per code (days, ratio, kept, ...)

    id: str
    code: str
    text: str
    text_key: str


class Insights(BaseModel):
    flags: list[Flag] = Field(default_factory=list)
    health: Health = Field(default_factory=Health)
    strengths: list[Strength] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)


class Done(BaseModel):
    """An acknowledgement without content."""

    ok: bool = True


class ScheduleQuery(Asks[Schedule]):
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


class InsightsQuery(Asks[Insights]):
    """Flags, health, strengths and recommendations as the caller may see them."""

    model_config = ConfigDict(extra="forbid")


class ExportInsights(Asks[Anything]):
    """What insights keeps of the caller (for their export)."""

    model_config = ConfigDict(extra="forbid")


class RespondToFlag(Asks[Done]):
    model_config = ConfigDict(extra="forbid")

    code: FlagCode
    answer: FlagAnswer
    note: str | None = Field(default=None, min_length=1, max_length=NOTE_MAX)


class AnswerRecommendation(Asks[Done]):
    model_config = ConfigDict(extra="forbid")

    recommendation_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    answer: Literal["dismissed", "done"]
