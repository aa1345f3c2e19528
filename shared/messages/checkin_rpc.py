"""Commands, queries and results of the checkin service (`<ns>.cmd|qry.checkin.<name>`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.envelope import Visibility
from shared.messages.asks import Asks
from shared.messages.checkin import BoundaryWindow, PillarScores, SelfReportSignals
from shared.messages.vocabulary import (
    LIST_MAX,
    BidKind,
    BidResponse,
    BoundaryKind,
    Channel,
    Connection,
    EntityId,
    Gratitude,
    Intensity,
    Label,
    MemberId,
    Minutes,
    Mood,
    Need,
    Note,
    Reason,
    RepairFeeling,
    RitualOutcome,
    Rule,
    Title,
    Topic,
    TouchKind,
)
from shared.zones import TimeZoneName


class Entry(BaseModel):
    """One fact as the owner of a timeline sees it."""

    id: str
    kind: str
    relationship_id: str
    author_id: str
    visibility: Visibility
    occurred_at: datetime
    recorded_at: datetime
    fields: dict[str, Any]


class EntryList(BaseModel):
    entries: list[Entry]
    next_cursor: str | None = None


class _Command(Asks[Entry]):
    """A change to a relationship's record; the answer is the entry as its author sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Query(Asks[EntryList]):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Fact(_Command):
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened; up to 400 days back, 5 minutes ahead."
    )


class LogCheckin(_Fact):
    mood: Mood
    connection: Connection
    pillars: PillarScores | None = None
    feelings: list[Label] = Field(default_factory=list, max_length=LIST_MAX)
    needs: list[Need] = Field(default_factory=list, max_length=LIST_MAX)
    gratitude: Gratitude | None = None
    note: Note | None = None
    signals: SelfReportSignals | None = None
    visibility: Visibility = Visibility.PRIVATE


class MakeBid(_Fact):
    to_member_id: MemberId
    kind: BidKind
    channel: Channel


class AnswerBid(_Fact):
    bid_id: EntityId
    response: BidResponse


class LogTouch(_Fact):
    kind: TouchKind
    sexual: bool
    minutes: Minutes | None = None
    with_member_id: MemberId | None = Field(
        default=None, description="With whom (another member); affection is read per pair."
    )
    visibility: Visibility = Visibility.PRIVATE


class LogTime(_Command):
    date: date
    screen_minutes: Minutes
    face_to_face_minutes: Minutes
    visibility: Visibility = Visibility.PRIVATE


class WindowIn(BoundaryWindow):
    timezone: TimeZoneName


class ProposeBoundary(_Command):
    kind: BoundaryKind
    rule: Rule
    window: WindowIn | None = None


class BoundaryRef(_Command):
    boundary_id: EntityId


class AcceptBoundary(BoundaryRef):
    """Accept a boundary another member proposed."""


class RetireBoundary(BoundaryRef):
    """Retire a boundary that no longer serves."""


class ReportBreach(_Fact):
    boundary_id: EntityId
    note: Note | None = None


class LogConflict(_Fact):
    topic: Topic
    intensity: Intensity
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False
    visibility: Visibility = Visibility.PRIVATE


class AddPerspective(_Command):
    """Your own view of a conflict another member logged: once per member."""

    conflict_id: EntityId
    intensity: Intensity
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False


class LogRepair(_Fact):
    conflict_id: EntityId
    felt: RepairFeeling


class CompleteAssessment(_Fact):
    answers: Annotated[list[bool], Field(min_length=10, max_length=10)]
    visibility: Visibility = Visibility.PRIVATE


class CreateRitual(_Command):
    title: Title
    rrule: str = Field(min_length=1, max_length=500)
    timezone: TimeZoneName
    starts_at: datetime = Field(description="First occurrence; local time in `timezone`.")
    duration_minutes: int = Field(ge=1, le=24 * 60)


class RecordRitualOutcome(_Command):
    ritual_id: EntityId
    occurrence: AwareDatetime
    outcome: RitualOutcome
    reason: Reason | None = None


class Page(_Query):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class TimelineQuery(Page):
    kinds: list[str] | None = Field(default=None, max_length=20)


class ListBoundaries(_Query):
    """The relationship's boundaries with their status."""


class ListOpenBids(_Query):
    """Bids nobody has answered yet."""


class ListRituals(_Query):
    """The relationship's rituals."""


class MyRecords(_Query):
    """Everything the caller wrote, in every relationship (for their export)."""
