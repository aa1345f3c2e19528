"""Commands and queries the gateway sends to the scheduler (dates, the program, reviews)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.messages.asks import Anything, Asks, Empty
from shared.messages.scheduler import DateKind
from shared.messages.vocabulary import EntityId, LocalTime
from shared.zones import zone

_FOURTEEN_DAYS = timedelta(days=14)


def _plausible_year(value: datetime) -> datetime:
    # Far-off years say nothing about a date and overflow arithmetic near datetime.max.
    if not 2000 <= value.year <= 2200:
        raise ValueError("give a time between the years 2000 and 2200")
    return value


class MemberLocalTime(BaseModel):
    timezone: str
    starts_at: str = Field(description="The member's local wall time, with offset.")
    ends_at: str


class DateOut(BaseModel):
    id: str
    proposed_by: str | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    duration_minutes: int
    kind: DateKind
    plan: str | None = None
    status: str = Field(description="proposed, accepted (every member said yes) or declined")
    answers: dict[str, str] = Field(default_factory=dict)
    remind_minutes_before: int
    local_times: dict[str, MemberLocalTime] = Field(
        default_factory=dict, description="The date in every member's local time."
    )


class DateList(BaseModel):
    dates: list[DateOut] = Field(default_factory=list)


class SuggestedSlot(BaseModel):
    starts_at: datetime
    ends_at: datetime
    local_times: dict[str, MemberLocalTime]
    inconvenience: dict[str, float] = Field(
        description="Per member, hours away from an easy early evening in their own day."
    )


class Suggestions(BaseModel):
    slots: list[SuggestedSlot] = Field(default_factory=list)


class PromptOut(BaseModel):
    text_key: str
    text: str


class ProgramView(BaseModel):
    program: str = "trust_rebuilding"
    status: str = Field(description="none, proposed, active or ended")
    proposed_by: str | None = None
    accepted_by: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    ends_at: datetime | None = None
    stage: str | None = None
    stage_title: str | None = None
    prompts: list[PromptOut] = Field(default_factory=list)


class ReviewSettingsOut(BaseModel):
    day_of_month: int
    time: str
    timezone: str
    next_at: datetime | None = None


class PillarHealth(BaseModel):
    """Health per pillar (0-100), or null where the month gave too little to score it."""

    emotional: float | None = None
    intellectual: float | None = None
    physical: float | None = None
    overall: float | None = None


class ReviewHealth(BaseModel):
    start: PillarHealth
    end: PillarHealth


class ReviewFlag(BaseModel):
    code: str
    at: datetime


class RitualTally(BaseModel):
    kept: int = Field(description="Occurrences any member completed (each counted once).")
    skipped: int = Field(description="Occurrences everyone who answered skipped.")


class ReviewBoundary(BaseModel):
    boundary_id: str
    kind: str | None = None


class ReviewDate(BaseModel):
    date_id: str
    kind: str | None = None
    at: datetime


class ReviewOut(BaseModel):
    """One month as every member may see it, built from shared happenings only."""

    id: str
    period_start: datetime
    period_end: datetime
    health: ReviewHealth
    flags_raised: list[ReviewFlag] = Field(default_factory=list)
    flags_cleared: list[ReviewFlag] = Field(default_factory=list)
    rituals: RitualTally
    boundaries_agreed: list[ReviewBoundary] = Field(default_factory=list)
    dates_had: list[ReviewDate] = Field(default_factory=list)
    strengths: list[str] = Field(default_factory=list)


class ReviewList(BaseModel):
    reviews: list[ReviewOut] = Field(default_factory=list)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposeDate(_Command, Asks[DateOut]):
    starts_at: datetime = Field(
        description="When the date starts: RFC 3339 with an offset, or a local wall time "
        "without one, read in `timezone` (DST-correct)."
    )
    timezone: str = Field(min_length=1, max_length=64, description="The proposer's IANA zone.")
    duration_minutes: int = Field(ge=5, le=12 * 60)
    kind: DateKind
    plan: str | None = Field(
        default=None, max_length=2000, description="What you'd like to do; sealed at rest."
    )
    remind_minutes_before: int = Field(
        default=30, ge=0, le=24 * 60, description="Every member is reminded this long before."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)  # raises ValueError for an unknown zone
        return value

    @field_validator("starts_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        return _plausible_year(value)

    @model_validator(mode="after")
    def _local_wall_time(self) -> ProposeDate:
        if self.starts_at.tzinfo is None:  # "Friday 20:00" where the proposer lives
            object.__setattr__(
                self, "starts_at", self.starts_at.replace(tzinfo=zone(self.timezone))
            )
        return self


class DateRef(_Command, Asks[DateOut]):
    date_id: EntityId


class SuggestionsQuery(_Command, Asks[Suggestions]):
    duration_minutes: int = Field(ge=15, le=8 * 60)
    start: AwareDatetime
    end: AwareDatetime

    @field_validator("start", "end")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        return _plausible_year(value)

    @model_validator(mode="after")
    def _ordered(self) -> SuggestionsQuery:
        if self.end <= self.start:
            raise ValueError("the end must come after the start")
        if self.end - self.start > _FOURTEEN_DAYS:
            raise ValueError("suggestions look at most 14 days ahead")
        return self


class ReviewSettings(_Command, Asks[ReviewSettingsOut]):
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    time: LocalTime | None = Field(default=None, description="Local HH:MM in `timezone`.")
    timezone: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class ReviewRef(_Command, Asks[ReviewList]):
    review_id: EntityId


class AcceptDate(DateRef):
    """Say yes to a proposed date."""


class DeclineDate(DateRef):
    """Say no to a proposed date."""


class _Ask(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposeProgram(_Ask, Asks[ProgramView]):
    """Propose the trust-rebuilding program to the relationship."""


class AcceptProgram(_Ask, Asks[ProgramView]):
    """Accept the proposed program."""


class GetProgram(_Ask, Asks[ProgramView]):
    """The program's stage and this stage's prompts."""


class StopProgram(_Ask, Asks[Empty]):
    """End the program early."""


class ListDates(_Ask, Asks[DateList]):
    """The relationship's digital dates, in every member's local time."""


class ListReviews(_Ask, Asks[ReviewList]):
    """The relationship's monthly reviews."""


class ExportSchedules(_Ask, Asks[Anything]):
    """What the scheduler keeps of the caller (for their export)."""
