"""Non-sexual touch falling well below the relationship's own baseline, relationship-wide and
for each pair of members (so with three or more, one pair's drop is not hidden by another's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.insights.domain import TOUCH_PAIR_PREFIX, View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def _drop(view: View, rules: Rules, counter: str) -> dict[str, Any] | None:
    """The evidence if `counter` fell below its own baseline, else None."""
    t = rules.affection_drop
    recent_days, baseline_days = t.recent_days, t.baseline_weeks * 7
    baseline_start = view.today - timedelta(days=recent_days + baseline_days - 1)
    history_needed = view.today - timedelta(days=recent_days + t.min_history_weeks * 7 - 1)
    # Compare only with the relationship's own past, and only once there is enough of it.
    if view.first_day is None or view.first_day > history_needed:
        return None
    start = max(view.first_day, baseline_start)
    baseline_span = (view.today - timedelta(days=recent_days) - start).days + 1
    baseline = view.total(counter, baseline_span, end_offset=recent_days)
    recent = view.total(counter, recent_days)
    baseline_rate, recent_rate = baseline / baseline_span, recent / recent_days
    if baseline_rate <= 0:
        return None
    ratio = recent_rate / baseline_rate
    if ratio >= t.max_ratio:
        return None
    return {"recent": int(recent), "recent_days": recent_days, "baseline": int(baseline),
            "baseline_days": baseline_span, "ratio": round(ratio, 2),
            "threshold": t.max_ratio}  # fmt: skip


def pairs_with_falling_affection(view: View, rules: Rules) -> list[dict[str, Any]]:
    """Each member pair (from touch logged with `with_member_id`) whose own touch fell."""
    window = rules.affection_drop.recent_days + rules.affection_drop.baseline_weeks * 7
    falling = []
    for pair in sorted(view.prefixed(TOUCH_PAIR_PREFIX, window)):
        evidence = _drop(view, rules, f"{TOUCH_PAIR_PREFIX}{pair}")
        if evidence is not None:
            falling.append({"pair": pair.split("~"), **evidence})
    return falling


def affection_drop(view: View, rules: Rules) -> list[Finding]:
    overall = _drop(view, rules, "touch_nonsexual")
    pairs = pairs_with_falling_affection(view, rules)
    evidence = overall or (pairs[0] if pairs else {})
    if pairs:
        evidence = {**evidence, "pairs": pairs}
    return relationship_finding(FlagCode.AFFECTION_DROP, bool(overall or pairs), **evidence)


RULES = [
    Rule(FlagCode.AFFECTION_DROP, 1, Severity.WARNING,
         "Everyday affection has dropped compared with your usual. Small touches count: a hug "
         "when someone comes home, holding hands on a walk, a hand on a shoulder.",
         affection_drop, "Less everyday affection",
         "Non-sexual touch lately is well below your own usual."),
]  # fmt: skip
