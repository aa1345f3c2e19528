"""Rituals skipped or missed more often than kept.

An occurrence is one thing whatever arrives about it, however many members answer:
kept when any member completed it (even if recorded after its window, which replaces
"missed"), skipped only when every member who answered skipped it, or missed only for
a ritual whose outcomes the relationship records at all (a couple who never records
outcomes has not missed every walk). In a relationship of three, a walk two went on
while the third stayed home was kept. Who answered what is not kept here: the rule
never needs it, and relationship aggregates carry no member (see docs/insights.md).
"""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def ritual_counts(view: View, days: int) -> tuple[int, int]:
    """Occurrences kept and not kept in the last `days` days."""
    since = view.now - timedelta(days=days)
    kept = not_kept = 0
    for o in view.occurrences:
        if o.at < since or o.at > view.now:
            continue
        if o.completed:
            kept += 1
        elif o.skipped or (o.missed and o.ritual_id in view.rituals_with_outcomes):
            not_kept += 1
    return kept, not_kept


def avoiding_time(view: View, rules: Rules) -> list[Finding]:
    t = rules.avoiding_time_together
    kept, not_kept = ritual_counts(view, t.window_days)
    total = kept + not_kept
    if total < t.min_occurrences:
        return []
    ratio = not_kept / total
    return relationship_finding(
        FlagCode.AVOIDING_TIME_TOGETHER, ratio >= t.skipped_ratio,
        occurrences=total, not_kept=not_kept, ratio=round(ratio, 2),
        window_days=t.window_days, threshold=t.skipped_ratio,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.AVOIDING_TIME_TOGETHER, 2, Severity.WARNING,
         "Half or more of your rituals were skipped lately. Maybe they no longer fit: pick one "
         "that is small enough to keep even on a busy week, and let the others rest.",
         avoiding_time, "Rituals left aside",
         "Half or more of your recent ritual times were skipped or missed."),
]  # fmt: skip
