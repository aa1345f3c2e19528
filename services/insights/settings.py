"""Settings of the insights service, with every rule's threshold (ATTUNE_RULES__<RULE>__<FIELD>)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.settings import SealingSettings


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True)


class BidsTurnedAway(_Rule):
    window_days: int = 30  # answers older than this no longer count, so the flag can clear
    last_answered: int = 20
    min_toward_ratio: float = 0.5
    min_answered: int = 10  # too few answers say nothing yet


class UnansweredBids(_Rule):
    window_days: int = 14
    open_hours: int = 24
    count: int = 5


class ConflictPattern(_Rule):
    window_days: int = 30
    count: int = 3


class AffectionDrop(_Rule):
    recent_days: int = 14
    baseline_weeks: int = 8
    min_history_weeks: int = 4
    max_ratio: float = 0.5


class AvoidingTime(_Rule):
    window_days: int = 28
    min_occurrences: int = 4
    skipped_ratio: float = 0.5


class SelfReport(_Rule):
    window_days: int = 14
    count: int = 3


class BoundaryBreaches(_Rule):
    window_days: int = 14
    count: int = 3


class ScreensCrowding(_Rule):
    weeks: int = 3
    max_face_to_face_per_day: float = 60


class Burnout(_Rule):
    days: int = 7
    exercises_per_day: float = 2.0
    min_connection_fall: float = 1.0  # points on the 10-point scale, week over week
    min_checkins_per_week: int = 3


class Health(_Rule):
    window_days: int = 7
    min_sample: int = 3  # check-ins scoring a pillar in a window before it has a score


class Starters(_Rule):
    hold_deep_hours: int = 48  # after a conflict of intensity 4+ or a mood of 1
    hard_conflict_intensity: int = 4


class Needs(_Rule):
    window_days: int = 14
    min_named: int = 3  # a need named this often is a pattern worth noticing


class Gratitude(_Rule):
    window_days: int = 14
    min_shared: int = 3


class Rules(BaseModel):
    model_config = ConfigDict(frozen=True)

    bids_turned_away: BidsTurnedAway = BidsTurnedAway()
    unanswered_bids: UnansweredBids = UnansweredBids()
    stonewalling: ConflictPattern = ConflictPattern()
    contempt: ConflictPattern = ConflictPattern(count=2)
    eye_contact_avoidance: ConflictPattern = ConflictPattern()
    relief_not_connection: ConflictPattern = ConflictPattern()
    affection_drop: AffectionDrop = AffectionDrop()
    avoiding_time_together: AvoidingTime = AvoidingTime()
    withholding: SelfReport = SelfReport()
    confiding_elsewhere: SelfReport = SelfReport()
    boundary_breached_repeatedly: BoundaryBreaches = BoundaryBreaches()
    screens_crowding_presence: ScreensCrowding = ScreensCrowding()
    intimacy_burnout: Burnout = Burnout()
    health: Health = Health()
    starters: Starters = Starters()
    needs: Needs = Needs()
    gratitude: Gratitude = Gratitude()
    persistent_flag_days: int = Field(
        default=14, description="A serious flag held this long suggests outside support."
    )


class InsightsSettings(SealingSettings):  # seals members' notes on flags
    service_name: ClassVar[str] = "insights"

    port: int = 8103
    rules: Rules = Rules()
    reevaluate_every_seconds: float = Field(
        default=3600, gt=0, description="Time-based re-evaluation of each active relationship."
    )
    evaluation_delay_seconds: float = Field(
        default=1.0, ge=0, description="Events are evaluated together after this short delay."
    )
    evaluation_retry_seconds: float = Field(
        default=5.0, gt=0, description="A claimed evaluation that failed is tried again after this."
    )
    tick_seconds: float = Field(
        default=30,
        gt=0,
        description="The evaluation tick's safety timer: it sleeps until the next evaluation "
        "is due or new events ask for one, and looks at least this often.",
    )
