"""Closed vocabularies and field limits shared by commands, events and the HTTP API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

# Length caps for free text: generous for a person, bounded for the system.
NOTE_MAX = 2000
GRATITUDE_MAX = 500
TOPIC_MAX = 200
RULE_MAX = 500
TITLE_MAX = 120
REASON_MAX = 500
LABEL_MAX = 40
LIST_MAX = 12

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX)]
Gratitude = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=GRATITUDE_MAX)
]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TOPIC_MAX)]
Rule = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=RULE_MAX)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LABEL_MAX)]
# Free text as it is stored and published: encrypted, so longer than what was typed.
Sealed = Annotated[str, StringConstraints(min_length=1, max_length=8192)]
MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Mood = Annotated[int, Field(ge=1, le=5)]
Connection = Annotated[int, Field(ge=1, le=10)]
PillarScore = Annotated[int, Field(ge=1, le=5)]
Intensity = Annotated[int, Field(ge=1, le=5)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]


class Pillar(StrEnum):
    EMOTIONAL = "emotional"
    INTELLECTUAL = "intellectual"
    PHYSICAL = "physical"


class Need(StrEnum):
    """NVC-style needs a check-in can name."""

    HEARD = "heard"
    SPACE = "space"
    AFFECTION = "affection"
    REASSURANCE = "reassurance"
    APPRECIATION = "appreciation"
    SUPPORT = "support"
    PLAY = "play"
    REST = "rest"
    HONESTY = "honesty"
    CLOSENESS = "closeness"
    UNDERSTANDING = "understanding"
    AUTONOMY = "autonomy"


class BidKind(StrEnum):
    ATTENTION = "attention"
    AFFECTION = "affection"
    HUMOR = "humor"
    HELP = "help"
    CONVERSATION = "conversation"
    PLAY = "play"
    SUPPORT = "support"
    ADVENTURE = "adventure"


class Channel(StrEnum):
    IN_PERSON = "in_person"
    MESSAGE = "message"
    CALL = "call"


class BidResponse(StrEnum):
    TOWARD = "toward"
    AWAY = "away"
    AGAINST = "against"


class TouchKind(StrEnum):
    HUG = "hug"
    HOLDING_HANDS = "holding_hands"
    CUDDLE = "cuddle"
    MASSAGE = "massage"
    KISS = "kiss"
    SLEEPING_CLOSE = "sleeping_close"
    SEX = "sex"
    OTHER = "other"


class BoundaryKind(StrEnum):
    ALONE_TIME = "alone_time"
    TECH = "tech"
    EMOTIONAL = "emotional"
    OTHER = "other"


class Weekday(StrEnum):
    MO = "mo"
    TU = "tu"
    WE = "we"
    TH = "th"
    FR = "fr"
    SA = "sa"
    SU = "su"


class RepairFeeling(StrEnum):
    CONNECTED = "connected"
    RELIEVED = "relieved"
    UNRESOLVED = "unresolved"


class RitualOutcome(StrEnum):
    COMPLETED = "completed"
    SKIPPED = "skipped"


class AssessmentBand(StrEnum):
    STRONG = "strong"
    ROOM_TO_GROW = "room_to_grow"
    NEEDS_CONVERSATION = "needs_conversation"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    SERIOUS = "serious"


class FlagCode(StrEnum):
    BIDS_TURNED_AWAY = "bids_turned_away"
    UNANSWERED_BIDS = "unanswered_bids"
    STONEWALLING = "stonewalling"
    CONTEMPT = "contempt"
    EYE_CONTACT_AVOIDANCE = "eye_contact_avoidance"
    AFFECTION_DROP = "affection_drop"
    AVOIDING_TIME_TOGETHER = "avoiding_time_together"
    RELIEF_NOT_CONNECTION = "relief_not_connection"
    WITHHOLDING = "withholding"
    CONFIDING_ELSEWHERE = "confiding_elsewhere"
    BOUNDARY_BREACHED_REPEATEDLY = "boundary_breached_repeatedly"
    SCREENS_CROWDING_PRESENCE = "screens_crowding_presence"
    INTIMACY_BURNOUT = "intimacy_burnout"


class RecommendationKind(StrEnum):
    CONVERSATION_STARTER = "conversation_starter"
    RITUAL_TO_TRY = "ritual_to_try"
    BOUNDARY_TO_DISCUSS = "boundary_to_discuss"
    PAUSE = "pause"
    COOL_DOWN_BREAK = "cool_down_break"
    OUTSIDE_SUPPORT = "outside_support"
    NVC_REFRAME = "nvc_reframe"
    SHARE_A_NEED = "share_a_need"


class Basis(StrEnum):
    """Whose reports a flag rests on: one member's word about something shared, or more."""

    ONE_MEMBER = "one_member"
    BOTH_MEMBERS = "both_members"


class FlagAnswer(StrEnum):
    AGREE = "agree"
    SEE_IT_DIFFERENTLY = "see_it_differently"


class ProgramStage(StrEnum):
    NAME_THE_BREACH = "name_the_breach"
    HELP_AND_AGREEMENTS = "help_and_agreements"
    WEEKLY_CHECKINS = "weekly_checkins"
    GRADUAL_RESTORATION = "gradual_restoration"
