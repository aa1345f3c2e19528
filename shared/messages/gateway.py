"""Events owned by the gateway: relationships, membership and member profiles."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.messages.base import EventData, register
from shared.messages.vocabulary import LocalTime, MemberId


class _Gateway(EventData):
    owner = "gateway"


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start: LocalTime
    end: LocalTime


@register
class RelationshipCreated(_Gateway):
    event_type = "relationship.created"

    created_by: MemberId
    members: list[MemberId]
    membership_version: int = Field(ge=1)


@register
class MemberJoined(_Gateway):
    event_type = "relationship.member_joined"

    member_id: MemberId
    members: list[MemberId]
    membership_version: int = Field(ge=1)


@register
class MemberLeft(_Gateway):
    event_type = "relationship.member_left"

    member_id: MemberId
    members: list[MemberId]
    membership_version: int = Field(ge=1)


@register
class RelationshipErased(_Gateway):
    """The last member left or was erased: every service forgets the relationship."""

    event_type = "relationship.erased"

    erased_at: AwareDatetime


@register
class MemberUpdated(_Gateway):
    """A member's settings the scheduler needs; no name or email ever travels."""

    event_type = "member.updated"

    member_id: MemberId
    timezone: str = Field(min_length=1, max_length=64)
    quiet_hours: QuietHours | None = None
    checkin_reminder_time: LocalTime | None = None


@register
class MemberErased(_Gateway):
    event_type = "member.erased"

    erasure_id: str = Field(min_length=1, max_length=64)
    member_id: MemberId
    relationship_ids: list[str] = Field(
        default_factory=list, description="The relationships the member was in when erased."
    )
    left_relationship_ids: list[str] = Field(
        default_factory=list,
        description="The relationships the member had left before: what they did there goes too.",
    )
    erased_at: AwareDatetime

    @property
    def every_relationship_id(self) -> list[str]:
        """Every relationship the member was ever in (that still existed at their erasure)."""
        return sorted({*self.relationship_ids, *self.left_relationship_ids})
