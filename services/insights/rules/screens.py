"""Screens taking up more of the week while time face to face shrinks."""

from __future__ import annotations

from itertools import pairwise

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def screens_crowding(view: View, rules: Rules) -> list[Finding]:
    t = rules.screens_crowding_presence
    weeks = list(reversed(range(t.weeks)))  # oldest first
    screen = [view.total("screen_minutes", 7, end_offset=7 * w) for w in weeks]
    together = [view.total("face_to_face_minutes", 7, end_offset=7 * w) for w in weeks]
    logged = [view.total("time_logs", 7, end_offset=7 * w) for w in weeks]
    if min(logged) == 0:
        return []  # a week without logs says nothing about a trend
    rising = all(a < b for a, b in pairwise(screen))
    falling = all(a > b for a, b in pairwise(together))
    per_day = together[-1] / logged[-1]
    return relationship_finding(
        FlagCode.SCREENS_CROWDING_PRESENCE,
        rising and falling and per_day < t.max_face_to_face_per_day,
        weekly_screen_minutes=screen, weekly_face_to_face_minutes=together,
        face_to_face_per_logged_day=round(per_day, 1), threshold=t.max_face_to_face_per_day,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.SCREENS_CROWDING_PRESENCE, 1, Severity.INFO,
         "Screens are taking a growing share of your days while time together shrinks. A "
         "device-free hour - dinner, a walk - is an easy place to win some of it back.",
         screens_crowding, "Screens crowding out time together",
         "Screen time rose week after week while time face to face fell."),
]  # fmt: skip
