"""Doing more and more exercises while feeling less connected: over-correction.

Exercises are deliberate practice only (assessments, completed rituals,
recommendations marked done); bids and check-ins are ordinary life. Connection
must really fall: by a set number of points, with enough check-ins in both weeks
for the means to say something.
"""

from __future__ import annotations

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def mean_connection(view: View, days: int, end_offset: int, min_checkins: int) -> float | None:
    n = view.total("checkins", days, end_offset)
    return view.total("connection_sum", days, end_offset) / n if n >= max(min_checkins, 1) else None


def burnout(view: View, rules: Rules) -> list[Finding]:
    t = rules.intimacy_burnout
    per_day = view.total("exercises", t.days) / t.days
    this_week = mean_connection(view, t.days, 0, t.min_checkins_per_week)
    last_week = mean_connection(view, t.days, t.days, t.min_checkins_per_week)
    if this_week is None or last_week is None:
        return []
    fall = last_week - this_week
    return relationship_finding(
        FlagCode.INTIMACY_BURNOUT,
        per_day >= t.exercises_per_day and fall >= t.min_connection_fall,
        exercises_per_day=round(per_day, 2), connection_this_week=round(this_week, 2),
        connection_last_week=round(last_week, 2), connection_fall=round(fall, 2),
        threshold=t.exercises_per_day, min_fall=t.min_connection_fall,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.INTIMACY_BURNOUT, 2, Severity.WARNING,
         "You have been working hard at this, and it is feeling heavier, not closer. Take a "
         "week off the exercises: just spend easy time together. Reminders will go quiet too.",
         burnout, "Trying hard, feeling further apart",
         "Lots of exercises this week while felt connection fell clearly from last week."),
]  # fmt: skip
