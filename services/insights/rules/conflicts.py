"""Patterns in conflicts and repairs: shutting down, contempt, avoided eyes, relief only."""

from __future__ import annotations

from services.insights.domain import View
from services.insights.rules import Evaluate, Finding, Rule, relationship_finding
from services.insights.settings import ConflictPattern, Rules
from shared.messages.vocabulary import FlagCode, Severity


def _counted(code: FlagCode, counter: str, pick: str) -> Evaluate:
    def evaluate(view: View, rules: Rules) -> list[Finding]:
        t: ConflictPattern = getattr(rules, pick)
        count = int(view.total(counter, t.window_days))
        return relationship_finding(
            code, count >= t.count, count=count, window_days=t.window_days, threshold=t.count
        )

    return evaluate


RULES = [
    Rule(FlagCode.STONEWALLING, 1, Severity.WARNING,
         "Someone has shut down in several recent arguments. Agree on a signal for 'I need a "
         "break', take twenty minutes apart, and come back to the topic at a set time.",
         _counted(FlagCode.STONEWALLING, "conflict_shut_down", "stonewalling")),
    Rule(FlagCode.CONTEMPT, 1, Severity.SERIOUS,
         "Sarcasm or contempt showed up more than once. Try naming one thing you appreciate "
         "about each other every day, and raise complaints about a situation, not a person.",
         _counted(FlagCode.CONTEMPT, "conflict_contempt", "contempt")),
    Rule(FlagCode.EYE_CONTACT_AVOIDANCE, 1, Severity.INFO,
         "Looking away came up in several conflicts. Sitting side by side or walking together "
         "can make hard talks feel safer than facing each other across a table.",
         _counted(FlagCode.EYE_CONTACT_AVOIDANCE, "conflict_eye_contact", "eye_contact_avoidance")),
    Rule(FlagCode.RELIEF_NOT_CONNECTION, 1, Severity.WARNING,
         "Several repairs ended in relief rather than closeness. After the next one, ask each "
         "other: what do you need from me so this feels settled, not just over?",
         _counted(FlagCode.RELIEF_NOT_CONNECTION, "repair_relieved", "relief_not_connection")),
]  # fmt: skip
