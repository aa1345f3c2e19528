"""Rituals skipped or missed more often than kept."""

from __future__ import annotations

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def ritual_counts(view: View, days: int) -> tuple[int, int]:
    kept = int(view.total("rituals_completed", days))
    not_kept = int(view.total("rituals_skipped", days) + view.total("rituals_missed", days))
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
    Rule(FlagCode.AVOIDING_TIME_TOGETHER, 1, Severity.WARNING,
         "Half or more of your rituals were skipped lately. Maybe they no longer fit: pick one "
         "that is small enough to keep even on a busy week, and let the others rest.",
         avoiding_time),
]  # fmt: skip
