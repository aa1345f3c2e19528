"""Non-sexual touch falling well below the relationship's own baseline."""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def affection_drop(view: View, rules: Rules) -> list[Finding]:
    t = rules.affection_drop
    recent_days, baseline_days = t.recent_days, t.baseline_weeks * 7
    baseline_start = view.today - timedelta(days=recent_days + baseline_days - 1)
    history_needed = view.today - timedelta(days=recent_days + t.min_history_weeks * 7 - 1)
    # Compare only with the relationship's own past, and only once there is enough of it.
    if view.first_day is None or view.first_day > history_needed:
        return []
    start = max(view.first_day, baseline_start)
    baseline_span = (view.today - timedelta(days=recent_days) - start).days + 1
    baseline = view.total("touch_nonsexual", baseline_span, end_offset=recent_days)
    recent = view.total("touch_nonsexual", recent_days)
    baseline_rate, recent_rate = baseline / baseline_span, recent / recent_days
    if baseline_rate <= 0:
        return []
    ratio = recent_rate / baseline_rate
    return relationship_finding(
        FlagCode.AFFECTION_DROP, ratio < t.max_ratio,
        recent=int(recent), recent_days=recent_days, baseline=int(baseline),
        baseline_days=baseline_span, ratio=round(ratio, 2), threshold=t.max_ratio,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.AFFECTION_DROP, 1, Severity.WARNING,
         "Everyday affection has dropped compared with your usual. Small touches count: a hug "
         "when someone comes home, holding hands on a walk, a hand on a shoulder.",
         affection_drop, "Less everyday affection",
         "Non-sexual touch lately is well below your own usual."),
]  # fmt: skip
