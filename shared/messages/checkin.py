"""Events owned by the checkin service: every fact members log.

Free text travels sealed (see shared/crypto.py): the stream never holds a member's words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.messages.base import EventData, register
from shared.messages.vocabulary import (
    LIST_MAX,
    AssessmentBand,
    BidKind,
    BidResponse,
    BoundaryKind,
    Channel,
    Connection,
    EntityId,
    Intensity,
    LocalTime,
    MemberId,
    Minutes,
    Mood,
    Need,
    PillarScore,
    RepairFeeling,
    Sealed,
    TouchKind,
    Weekday,
)


class _Checkin(EventData):
    owner = "checkin"


class PillarScores(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    emotional: PillarScore | None = None
    intellectual: PillarScore | None = None
    physical: PillarScore | None = None


class SelfReportSignals(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    held_back: bool = False
    confided_elsewhere: bool = False


class BoundaryWindow(BaseModel):
    """A daily local-time window, e.g. no phones 19:00-20:00 Europe/Berlin."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start: LocalTime
    end: LocalTime
    days: list[Weekday] | None = Field(default=None, max_length=7)
    timezone: str = Field(min_length=1, max_length=64)


@register
class CheckinLogged(_Checkin):
    event_type = "checkin.logged"

    checkin_id: EntityId
    author_id: MemberId
    occurred_at: AwareDatetime
    mood: Mood
    connection: Connection
    pillars: PillarScores | None = None
    feelings: list[Sealed] = Field(default_factory=list, max_length=LIST_MAX)
    needs: list[Need] = Field(default_factory=list, max_length=LIST_MAX)
    gratitude: Sealed | None = None
    note: Sealed | None = None
    signals: SelfReportSignals | None = None
    criticism: bool = Field(
        default=False, description="A shared note that reads as blanket criticism."
    )


@register
class BidMade(_Checkin):
    event_type = "bid.made"

    bid_id: EntityId
    from_member_id: MemberId
    to_member_id: MemberId
    kind: BidKind
    channel: Channel
    occurred_at: AwareDatetime


@register
class BidAnswered(_Checkin):
    event_type = "bid.answered"

    bid_id: EntityId
    from_member_id: MemberId
    to_member_id: MemberId = Field(description="The bid's target, who answered it.")
    response: BidResponse
    made_at: AwareDatetime
    occurred_at: AwareDatetime


@register
class TouchLogged(_Checkin):
    event_type = "touch.logged"

    touch_id: EntityId
    author_id: MemberId
    kind: TouchKind
    sexual: bool
    minutes: Minutes | None = None
    occurred_at: AwareDatetime
    with_member_id: MemberId | None = Field(default=None, description="The other member.")


@register
class TimeLogged(_Checkin):
    event_type = "time.logged"

    time_log_id: EntityId
    author_id: MemberId
    date: date
    screen_minutes: Minutes
    face_to_face_minutes: Minutes


@register
class BoundaryProposed(_Checkin):
    event_type = "boundary.proposed"

    boundary_id: EntityId
    proposed_by: MemberId
    kind: BoundaryKind
    rule: Sealed
    window: BoundaryWindow | None = None
    awaiting: list[MemberId] = Field(description="Members whose acceptance is still needed.")


@register
class BoundaryAccepted(_Checkin):
    event_type = "boundary.accepted"

    boundary_id: EntityId
    member_id: MemberId
    awaiting: list[MemberId]


@register
class BoundaryActivated(_Checkin):
    event_type = "boundary.activated"

    boundary_id: EntityId
    kind: BoundaryKind
    window: BoundaryWindow | None = None
    accepted_by: list[MemberId]
    proposed_by: MemberId | None = Field(
        default=None, description="Who proposed it: their erasure ends the boundary's window."
    )


@register
class BoundaryRetired(_Checkin):
    event_type = "boundary.retired"

    boundary_id: EntityId
    retired_by: MemberId


@register
class BoundaryBreached(_Checkin):
    event_type = "boundary.breached"

    breach_id: EntityId
    boundary_id: EntityId
    reported_by: MemberId
    note: Sealed | None = None
    occurred_at: AwareDatetime


@register
class ConflictLogged(_Checkin):
    event_type = "conflict.logged"

    conflict_id: EntityId
    author_id: MemberId
    topic: Sealed
    intensity: Intensity
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False
    occurred_at: AwareDatetime


@register
class ConflictPerspectiveAdded(_Checkin):
    """Another member's view of the same conflict; rules count the conflict once."""

    event_type = "conflict.perspective_added"

    conflict_id: EntityId
    author_id: MemberId = Field(description="The member giving their perspective.")
    intensity: Intensity
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False
    conflict_occurred_at: AwareDatetime = Field(description="When the conflict itself happened.")
    occurred_at: AwareDatetime


@register
class RepairLogged(_Checkin):
    event_type = "repair.logged"

    repair_id: EntityId
    conflict_id: EntityId
    author_id: MemberId
    felt: RepairFeeling
    occurred_at: AwareDatetime


@register
class AssessmentCompleted(_Checkin):
    event_type = "assessment.completed"

    assessment_id: EntityId
    member_id: MemberId
    answers: Annotated[list[bool], Field(min_length=10, max_length=10)]
    score: int = Field(ge=0, le=10)
    band: AssessmentBand
    occurred_at: AwareDatetime


@register
class RitualCreated(_Checkin):
    """Not in the original event list: the scheduler needs a ritual's rule to fire it."""

    event_type = "ritual.created"

    ritual_id: EntityId
    created_by: MemberId
    title: Sealed
    rrule: str = Field(min_length=1, max_length=500)
    timezone: str = Field(min_length=1, max_length=64)
    starts_at: datetime
    duration_minutes: int = Field(ge=1, le=24 * 60)


@register
class RitualCompleted(_Checkin):
    event_type = "ritual.completed"

    ritual_id: EntityId
    occurrence: AwareDatetime
    member_id: MemberId
    occurred_at: AwareDatetime


@register
class RitualSkipped(_Checkin):
    event_type = "ritual.skipped"

    ritual_id: EntityId
    occurrence: AwareDatetime
    member_id: MemberId
    reason: Sealed | None = None
    occurred_at: AwareDatetime


@register
class CheckinErasureConfirmed(_Checkin):
    """This service holds nothing more about the erased member."""

    event_type = "checkin.erasure_confirmed"

    erasure_id: str = Field(min_length=1, max_length=64)
    member_id: MemberId
