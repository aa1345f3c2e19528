"""Building aggregate views for rule tests: counters by days-ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.insights.domain import (
    Assessment,
    Bid,
    ConflictSeen,
    Occurrence,
    Report,
    View,
    Zones,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def view(
    days: dict[int, dict[str, float]] | None = None,
    member_days: dict[str, dict[int, dict[str, float]]] | None = None,
    bids: list[Bid] | None = None,
    first_day_ago: int | None = 0,
    assessments: dict[str, Assessment] | None = None,
    conflicts: list[ConflictSeen] | None = None,
    occurrences: list[Occurrence] | None = None,
    rituals_with_outcomes: frozenset[str] = frozenset(),
    zones: Zones | None = None,
) -> View:
    return View(
        relationship_id="r1",
        now=NOW,
        members=["a", "b"],
        first_day=None if first_day_ago is None else TODAY - timedelta(days=first_day_ago),
        days={TODAY - timedelta(days=ago): dict(c) for ago, c in (days or {}).items()},
        member_days={
            m: {TODAY - timedelta(days=ago): dict(c) for ago, c in by_day.items()}
            for m, by_day in (member_days or {}).items()
        },
        bids=bids or [],
        assessments=assessments or {},
        conflicts=conflicts or [],
        occurrences=occurrences or [],
        rituals_with_outcomes=rituals_with_outcomes,
        zones=zones or Zones(),
    )


def conflict(days_ago: float, *reports: Report, cid: str | None = None) -> ConflictSeen:
    at = NOW - timedelta(days=days_ago)
    return ConflictSeen(cid or f"c{days_ago}-{len(reports)}", at, tuple(reports))


def occurrence(days_ago: float, ritual: str = "walk", **outcome: bool) -> Occurrence:
    return Occurrence(ritual, NOW - timedelta(days=days_ago), **outcome)


def answered(responses: list[str]) -> list[Bid]:
    """Answered bids, the first one answered most recently."""
    return [
        Bid(NOW - timedelta(hours=i + 2), NOW - timedelta(hours=i + 1), r)
        for i, r in enumerate(responses)
    ]


def spread(counter: str, per_day: float, ago_from: int, ago_to: int) -> dict[int, dict[str, float]]:
    return {ago: {counter: per_day} for ago in range(ago_from, ago_to + 1)}
