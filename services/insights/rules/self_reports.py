"""A member's own signals, seen by that member only: holding back, confiding elsewhere."""

from __future__ import annotations

from services.insights.domain import View
from services.insights.rules import Evaluate, Finding, Rule
from services.insights.settings import Rules, SelfReport
from shared.messages.vocabulary import FlagCode, Severity


def _self_report(code: FlagCode, counter: str, pick: str) -> Evaluate:
    def evaluate(view: View, rules: Rules) -> list[Finding]:
        t: SelfReport = getattr(rules, pick)
        found = []
        for member in view.member_days:
            count = int(view.member_total(member, counter, t.window_days))
            if count >= t.count:
                found.append(Finding(code, member, {
                    "count": count, "window_days": t.window_days, "threshold": t.count,
                }))  # fmt: skip
        return found

    return evaluate


RULES = [
    Rule(FlagCode.WITHHOLDING, 1, Severity.INFO,
         "You noted holding something back a few times. Only you see this. If it feels safe, "
         "try sharing a small piece of it, starting with 'I have been wanting to tell you...'.",
         _self_report(FlagCode.WITHHOLDING, "held_back", "withholding"),
         "Holding something back", "You noted holding back something important a few times."),
    Rule(FlagCode.CONFIDING_ELSEWHERE, 1, Severity.INFO,
         "You turned to someone else with important things a few times. Only you see this. "
         "Friends matter; consider what would make it easier to bring some of it home too.",
         _self_report(FlagCode.CONFIDING_ELSEWHERE, "confided_elsewhere", "confiding_elsewhere"),
         "Confiding elsewhere", "You noted turning to someone else with important things."),
]  # fmt: skip
