"""Events owned by the scheduler: things that are due, at the right instant."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from shared.messages.base import EventData, register
from shared.messages.vocabulary import EntityId, MemberId, ProgramStage


class _Scheduler(EventData):
    owner = "scheduler"


class ReminderKind(StrEnum):
    CHECKIN = "checkin"
    DIGITAL_DATE = "digital_date"
    RITUAL = "ritual"
    PROGRAM = "program"
    REVIEW = "review"


class DateKind(StrEnum):
    VIDEO = "video"
    CALL = "call"
    WATCH_TOGETHER = "watch_together"
    PLAY = "play"
    OTHER = "other"


@register
class ReminderDue(_Scheduler):
    event_type = "reminder.due"

    reminder_id: EntityId
    member_id: MemberId
    kind: ReminderKind
    local_date: date = Field(description="The member's local date the reminder belongs to.")
    due_at: AwareDatetime
    ref_id: str | None = Field(
        default=None, max_length=128, description="The ritual, date, program or review nudged."
    )
    delivered_at: AwareDatetime | None = Field(
        default=None, description="When it went out: later than due_at after quiet hours."
    )


@register
class RitualDue(_Scheduler):
    event_type = "ritual.due"

    ritual_id: EntityId
    occurrence: AwareDatetime
    ends_at: AwareDatetime


@register
class RitualMissed(_Scheduler):
    event_type = "ritual.missed"

    ritual_id: EntityId
    occurrence: AwareDatetime


@register
class BoundaryWindowOpened(_Scheduler):
    event_type = "boundary.window_opened"

    boundary_id: EntityId
    opens_at: AwareDatetime
    closes_at: AwareDatetime


@register
class BoundaryWindowClosed(_Scheduler):
    event_type = "boundary.window_closed"

    boundary_id: EntityId
    opened_at: AwareDatetime
    closes_at: AwareDatetime


@register
class ReviewDue(_Scheduler):
    event_type = "review.due"

    review_id: EntityId
    period: str = Field(default="monthly", pattern=r"^(weekly|monthly|quarterly)$")
    due_at: AwareDatetime
    period_start: AwareDatetime | None = Field(default=None, description="The month reviewed.")


@register
class ProgramStageStarted(_Scheduler):
    event_type = "program.stage_started"

    program_id: EntityId
    stage: ProgramStage
    prompt_codes: list[str] = Field(default_factory=list, max_length=20)
    starts_at: AwareDatetime


@register
class ProgramProposed(_Scheduler):
    event_type = "program.proposed"

    program_id: EntityId
    proposed_by: MemberId


@register
class ProgramAccepted(_Scheduler):
    event_type = "program.accepted"

    program_id: EntityId
    member_id: MemberId
    started_at: AwareDatetime | None = Field(
        default=None, description="Set when this acceptance was the last one needed."
    )
    ends_at: AwareDatetime | None = None


@register
class ProgramEnded(_Scheduler):
    event_type = "program.ended"

    program_id: EntityId
    ended_at: AwareDatetime


class _DateFacts(_Scheduler):
    date_id: EntityId
    starts_at: AwareDatetime
    timezone: str = Field(min_length=1, max_length=64)
    duration_minutes: int = Field(ge=5, le=12 * 60)
    kind: DateKind


@register
class DateProposed(_DateFacts):
    """A digital date; its plan stays sealed in the scheduler and is never in the event."""

    event_type = "date.proposed"

    proposed_by: MemberId


@register
class DateAccepted(_DateFacts):
    event_type = "date.accepted"

    member_id: MemberId
    confirmed: bool = Field(description="Every member has now accepted.")


@register
class DateDeclined(_DateFacts):
    event_type = "date.declined"

    member_id: MemberId


@register
class DateReminded(_DateFacts):
    event_type = "date.reminded"

    minutes_before: int = Field(ge=0)


@register
class DateHappened(_DateFacts):
    event_type = "date.happened"


@register
class SchedulerErasureConfirmed(_Scheduler):
    """This service holds nothing more about the erased member."""

    event_type = "scheduler.erasure_confirmed"

    erasure_id: str = Field(min_length=1, max_length=64)
    member_id: MemberId
