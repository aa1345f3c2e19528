"""The same boundary crossed again and again."""

from __future__ import annotations

from services.insights.domain import BREACH_BY_PREFIX, BREACH_PREFIX, View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def breached_repeatedly(view: View, rules: Rules) -> list[Finding]:
    t = rules.boundary_breached_repeatedly
    per_boundary = view.prefixed(BREACH_PREFIX, t.window_days)
    repeated = {b: int(n) for b, n in sorted(per_boundary.items()) if n >= t.count}
    reporters = frozenset(
        key.split(":", 1)[1]
        for key in view.prefixed(BREACH_BY_PREFIX, t.window_days)
        if key.split(":", 1)[0] in repeated
    )
    return relationship_finding(
        FlagCode.BOUNDARY_BREACHED_REPEATEDLY, bool(repeated), reporters,
        boundaries=repeated, window_days=t.window_days, threshold=t.count,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.BOUNDARY_BREACHED_REPEATEDLY, 1, Severity.WARNING,
         "One boundary keeps being crossed. Revisit it together: is it still right, is it clear "
         "enough, and what would make it easier to keep?",
         breached_repeatedly, "A boundary crossed again and again",
         "The same boundary was reported crossed several times recently."),
]  # fmt: skip
