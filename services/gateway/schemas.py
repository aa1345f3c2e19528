"""HTTP request and response models of the public API (see ../shared/design/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.envelope import Visibility
from shared.messages.checkin_rpc import Entry
from shared.messages.gateway import QuietHours
from shared.messages.vocabulary import (
    BidResponse,
    FlagAnswer,
    Intensity,
    Label,
    LocalTime,
    Note,
    Reason,
    RepairFeeling,
    RitualOutcome,
)
from shared.zones import TimeZoneName

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is returned."""

    type: str = Field(examples=["https://attune.dev/problems/not_found"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code.", examples=["not_found"])
    instance: str | None = None
    field: str | None = Field(default=None, description="The offending field, for 422.")
    errors: list[dict[str, Any]] | None = None


# -- accounts --------------------------------------------------------------------------


class SignupIn(_In):
    email: Email = Field(examples=["sam@example.org"])
    password: Password
    display_name: DisplayName = Field(examples=["Sam"])
    timezone: TimeZoneName = Field(examples=["Europe/Berlin"])


class TokenIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class MemberOut(BaseModel):
    id: str
    email: str
    display_name: str
    timezone: str
    quiet_hours: QuietHours | None = None
    checkin_reminder_time: LocalTime | None = None


class SignupOut(BaseModel):
    member: MemberOut
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class MePatch(_In):
    display_name: DisplayName | None = None
    timezone: TimeZoneName | None = None
    quiet_hours: QuietHours | None = None
    checkin_reminder_time: LocalTime | None = Field(default=None, examples=["20:30"])


class ExportOut(BaseModel):
    member: MemberOut
    relationships: list[dict[str, Any]]
    records: list[Entry]
    insights: dict[str, Any] = Field(description="Flags only you see, your own counters.")
    schedules: dict[str, Any] = Field(description="Your reminder settings and schedule.")


# -- relationships ---------------------------------------------------------------------


class RelationshipIn(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    tags: list[Label] = Field(default_factory=list, max_length=10)


class MemberRef(BaseModel):
    id: str
    display_name: str


class RelationshipOut(BaseModel):
    id: str
    name: str | None = None
    tags: list[str]
    members: list[MemberRef]


class InviteOut(BaseModel):
    id: str = Field(description="Names the invite to list or revoke it; not the code.")
    code: str = Field(description="Single use; share it with the person you invite.")
    expires_at: datetime


class PendingInviteOut(BaseModel):
    """An invite not used yet; its code is shown once, when it is made, and never again."""

    id: str
    created_by: str
    expires_at: datetime


# -- facts whose target comes from the path ----------------------------------------------


class AnswerIn(_In):
    response: BidResponse
    occurred_at: AwareDatetime | None = None


class BreachIn(_In):
    note: Note | None = None
    occurred_at: AwareDatetime | None = None


class RepairIn(_In):
    felt: RepairFeeling
    occurred_at: AwareDatetime | None = None


class PerspectiveIn(_In):
    """Your own view of a conflict another member logged."""

    intensity: Intensity
    shut_down: bool = False
    sarcasm_or_contempt: bool = False
    avoided_eye_contact: bool = False


class FlagResponseIn(_In):
    answer: FlagAnswer
    note: Note | None = None


class OutcomeIn(_In):
    occurrence: AwareDatetime
    outcome: RitualOutcome
    reason: Reason | None = None


class EntryOut(BaseModel):
    """A fact as its viewer sees it: the common fields plus the fact's own."""

    model_config = ConfigDict(extra="allow")

    id: str
    entry_type: str = Field(
        description="checkin, bid, touch, time_log, boundary, breach, conflict, repair, "
        "assessment, ritual or ritual_outcome (`kind` is the fact's own field)."
    )
    author_id: str
    occurred_at: datetime
    recorded_at: datetime
    visibility: Visibility

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls(
            id=entry.id,
            entry_type=entry.kind,
            author_id=entry.author_id,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            visibility=entry.visibility,
            **entry.fields,
        )


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    next_cursor: str | None = None
