"""Bids for connection: turned away too often, or left unanswered."""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import View
from services.insights.rules import Finding, Rule, relationship_finding
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


def last_answered(view: View, count: int, window_days: int) -> list[str]:
    """The newest `count` answers given within the window, newest first."""
    since = view.now - timedelta(days=window_days)
    answered = [
        b for b in view.bids if b.answered_at is not None and b.response and b.answered_at >= since
    ]
    answered.sort(key=lambda b: b.answered_at, reverse=True)  # type: ignore[arg-type,return-value]
    return [str(b.response) for b in answered[:count]]


def turned_away(view: View, rules: Rules) -> list[Finding]:
    t = rules.bids_turned_away
    responses = last_answered(view, t.last_answered, t.window_days)
    if len(responses) < t.min_answered:
        return []
    toward = responses.count("toward")
    ratio = toward / len(responses)
    return relationship_finding(
        FlagCode.BIDS_TURNED_AWAY, ratio < t.min_toward_ratio,
        answered=len(responses), toward=toward, ratio=round(ratio, 2),
        window_days=t.window_days, threshold=t.min_toward_ratio,
    )  # fmt: skip


def unanswered(view: View, rules: Rules) -> list[Finding]:
    t = rules.unanswered_bids
    since = view.now - timedelta(days=t.window_days)
    late = timedelta(hours=t.open_hours)
    left_open = 0
    for bid in view.bids:
        if bid.made_at is None or bid.made_at < since:
            continue
        waited = (bid.answered_at or view.now) - bid.made_at
        if waited > late:
            left_open += 1
    return relationship_finding(
        FlagCode.UNANSWERED_BIDS, left_open >= t.count,
        left_open=left_open, window_days=t.window_days, open_hours=t.open_hours, threshold=t.count,
    )  # fmt: skip


RULES = [
    Rule(FlagCode.BIDS_TURNED_AWAY, 2, Severity.WARNING,
         "Many reaches for connection lately went unmet. Try noticing one small bid a day - a "
         "comment, a look, a question - and answer it with a moment of real attention.",
         turned_away, "Reaching out, often unmet",
         "Fewer than half of your recent answered bids for connection were turned toward."),
    Rule(FlagCode.UNANSWERED_BIDS, 1, Severity.WARNING,
         "Several invitations to connect waited more than a day. A quick 'I saw this, I'll get "
         "back to you tonight' keeps the door open when you cannot answer right away.",
         unanswered, "Bids left waiting",
         "Several recent bids for connection waited more than a day for an answer."),
]  # fmt: skip
