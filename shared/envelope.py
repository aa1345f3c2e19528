"""The CloudEvents 1.0 envelope every Attune event travels in.

Extension attribute names follow the CloudEvents rule (lower-case letters and
digits only); the Python names are snake_case aliases of them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Visibility(StrEnum):
    PRIVATE = "private"  # only the member named by actor_id
    SHARED = "shared"  # every member of the relationship


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """Attributes of one event; `data` holds the payload as plain JSON."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=64, description="Also the JetStream Nats-Msg-Id.")
    source: str = Field(min_length=1, description="The producing service, e.g. attune/checkin.")
    type: str = Field(min_length=1, description="Dotted event type, e.g. bid.answered.")
    version: int = Field(ge=1, alias="dataversion", description="Version of the data schema.")
    dataschema: str | None = None
    time: AwareDatetime
    subject: str | None = Field(default=None, description="The entity the event is about.")
    datacontenttype: Literal["application/json"] = "application/json"
    relationship_id: str | None = Field(default=None, alias="relationshipid")
    actor_id: str | None = Field(
        default=None,
        alias="actorid",
        description="The member who acted; for a private event, the only member who may see it.",
    )
    visibility: Visibility = Visibility.SHARED
    correlation_id: str | None = Field(default=None, alias="correlationid")
    causation_id: str | None = Field(default=None, alias="causationid")
    data: dict[str, Any]

    @property
    def owner(self) -> str:
        """The owning service, from `source` (attune/<service>)."""
        return self.source.removeprefix("attune/")

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()

    def visible_to(self, member_id: str) -> bool:
        return self.visibility is Visibility.SHARED or self.actor_id == member_id
