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


@register
class ReminderDue(_Scheduler):
    event_type = "reminder.due"

    reminder_id: EntityId
    member_id: MemberId
    kind: ReminderKind
    local_date: date = Field(description="The member's local date the reminder belongs to.")
    due_at: AwareDatetime


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


@register
class ProgramStageStarted(_Scheduler):
    event_type = "program.stage_started"

    program_id: EntityId
    stage: ProgramStage
    prompt_codes: list[str] = Field(default_factory=list, max_length=20)
    starts_at: AwareDatetime


@register
class SchedulerErasureConfirmed(_Scheduler):
    """This service holds nothing more about the erased member."""

    event_type = "scheduler.erasure_confirmed"

    erasure_id: str = Field(min_length=1, max_length=64)
    member_id: MemberId
