"""Patterns in conflicts and repairs: shutting down, contempt, avoided eyes, relief only.

Conflicts are counted, not reports: when both members log their view of the same
argument (a conflict and its perspective), it counts once. A conflict counts for
a pattern when any member's account of it says so; the members whose accounts
said so are the flag's basis.
"""

from __future__ import annotations

from services.insights.domain import View
from services.insights.rules import Evaluate, Finding, Rule, relationship_finding
from services.insights.settings import ConflictPattern, Rules
from shared.messages.vocabulary import FlagCode, Severity


def _conflicts_where(code: FlagCode, mark: str, pick: str) -> Evaluate:
    def evaluate(view: View, rules: Rules) -> list[Finding]:
        t: ConflictPattern = getattr(rules, pick)
        count, reporters = 0, set()
        for conflict in view.conflicts_within(t.window_days):
            saying_so = {r.member_id for r in conflict.reports if getattr(r, mark)}
            if saying_so:
                count += 1
                reporters |= saying_so
        return relationship_finding(
            code, count >= t.count, frozenset(reporters),
            count=count, window_days=t.window_days, threshold=t.count,
        )  # fmt: skip

    return evaluate


def _repairs(view: View, rules: Rules) -> list[Finding]:
    t = rules.relief_not_connection
    count = int(view.total("repair_relieved", t.window_days))
    return relationship_finding(
        FlagCode.RELIEF_NOT_CONNECTION, count >= t.count,
        count=count, window_days=t.window_days, threshold=t.count,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.STONEWALLING, 2, Severity.WARNING,
         "Someone has shut down in several recent arguments. Agree on a signal for 'I need a "
         "break', take twenty minutes apart, and come back to the topic at a set time.",
         _conflicts_where(FlagCode.STONEWALLING, "shut_down", "stonewalling"),
         "Shutting down in arguments",
         "In several recent conflicts, someone went quiet or withdrew."),
    Rule(FlagCode.CONTEMPT, 2, Severity.SERIOUS,
         "Sarcasm or contempt showed up more than once. Try naming one thing you appreciate "
         "about each other every day, and raise complaints about a situation, not a person.",
         _conflicts_where(FlagCode.CONTEMPT, "sarcasm_or_contempt", "contempt"),
         "Sarcasm or contempt in conflicts",
         "More than one recent conflict had sarcasm or contempt in it."),
    Rule(FlagCode.EYE_CONTACT_AVOIDANCE, 2, Severity.INFO,
         "Looking away came up in several conflicts. Sitting side by side or walking together "
         "can make hard talks feel safer than facing each other across a table.",
         _conflicts_where(FlagCode.EYE_CONTACT_AVOIDANCE, "avoided_eye_contact",
                          "eye_contact_avoidance"),
         "Looking away during conflicts",
         "In several recent conflicts, eye contact was avoided."),
    Rule(FlagCode.RELIEF_NOT_CONNECTION, 1, Severity.WARNING,
         "Several repairs ended in relief rather than closeness. After the next one, ask each "
         "other: what do you need from me so this feels settled, not just over?",
         _repairs, "Repairs that end in relief, not closeness",
         "Several recent repairs left you relieved rather than connected."),
]  # fmt: skip
