"""Evaluation: from the view and the flags already up to what is raised, cleared and shown.

Pure functions: the view and the prior state in, the new state and the events
to publish out. Queries use the same functions to show a member what is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.insights import starters
from services.insights.domain import View
from services.insights.rules import Finding, all_rules, rule_for
from services.insights.rules.bids import last_answered
from services.insights.rules.rituals import ritual_counts
from services.insights.settings import Rules
from shared.messages.base import EventData
from shared.messages.insights import FlagCleared, FlagRaised, HealthUpdated, RecommendationMade
from shared.messages.vocabulary import FlagCode, Pillar, RecommendationKind


@dataclass
class State:
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    starter: dict[str, Any] | None = None
    starters_used: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outgoing:
    data: EventData
    member_id: str | None  # private to this member, or shared with the relationship


def pillar_mean(view: View, pillar: str, days: int, end_offset: int) -> float | None:
    n = view.total(f"{pillar}_n", days, end_offset)
    return view.total(f"{pillar}_sum", days, end_offset) / n if n else None


def _score(mean: float | None, top: int) -> float | None:
    return None if mean is None else round((mean - 1) / (top - 1) * 100, 1)


def health(view: View) -> dict[str, Any]:
    """Per-pillar health 0-100 over the last 7 days (shared check-ins), with the week's change."""
    scores: dict[str, float | None] = {}
    trend: dict[str, float] = {}
    for pillar in Pillar:
        now, before = pillar_mean(view, pillar, 7, 0), pillar_mean(view, pillar, 7, 7)
        scores[pillar.value] = _score(now, 5)
        if now is not None and before is not None:
            trend[pillar.value] = round((now - before) / 4 * 100, 1)
    known = [s for s in scores.values() if s is not None]
    if known:
        overall: float | None = round(sum(known) / len(known), 1)
    else:
        n = view.total("checkins", 7)
        overall = _score(view.total("connection_sum", 7) / n, 10) if n else None
    return {**scores, "overall": overall, "trend": trend}


def weakest_pillar(current: dict[str, Any], today_index: int) -> Pillar:
    known = [(float(current[p.value]), p) for p in Pillar if current.get(p.value) is not None]
    if known:
        return min(known, key=lambda pair: pair[0])[1]
    return list(Pillar)[today_index % 3]  # nothing known yet: take turns


def starters_paused(flags: dict[str, dict[str, Any]]) -> bool:
    """While intimacy burnout shows, no new daily starter: fewer nudges, not more."""
    return FlagCode.INTIMACY_BURNOUT.value in flags


def evaluate(view: View, prior: State, rules: Rules) -> tuple[State, list[Outgoing]]:
    findings: dict[str, Finding] = {}
    for rule in all_rules():
        for finding in rule.evaluate(view, rules):
            findings[finding.key] = finding
    now = view.now
    out: list[Outgoing] = []
    flags: dict[str, dict[str, Any]] = {}
    for key, finding in findings.items():
        rule = rule_for(finding.code.value)
        earlier = prior.flags.get(key)
        raised_at = earlier["raised_at"] if earlier else now
        flags[key] = {
            "code": finding.code.value, "member_id": finding.member_id,
            "severity": rule.severity.value, "rule_version": rule.version,
            "evidence": finding.evidence, "raised_at": raised_at, "suggestion": rule.suggestion,
        }  # fmt: skip
        if earlier is None:
            out.append(Outgoing(FlagRaised(
                code=finding.code, rule_version=rule.version, severity=rule.severity,
                member_id=finding.member_id, evidence=finding.evidence,
                suggestion=rule.suggestion, raised_at=now,
            ), finding.member_id))  # fmt: skip
    for key, earlier in prior.flags.items():
        if key not in findings:
            out.append(Outgoing(FlagCleared(
                code=FlagCode(earlier["code"]), rule_version=earlier["rule_version"],
                member_id=earlier["member_id"], raised_at=earlier["raised_at"], cleared_at=now,
            ), earlier["member_id"]))  # fmt: skip

    current = health(view)
    if current != prior.health:
        out.append(Outgoing(HealthUpdated(
            emotional=current["emotional"], intellectual=current["intellectual"],
            physical=current["physical"], overall=current["overall"], trend=current["trend"],
            as_of=now,
        ), None))  # fmt: skip

    starter, used = prior.starter, dict(prior.starters_used)
    today = view.today.isoformat()
    fresh_day = starter is None or starter["day"] != today
    if fresh_day and not starters_paused(flags):
        pillar = weakest_pillar(current, view.today.toordinal())
        starter_id, text, used[pillar.value] = starters.next_starter(
            pillar, used.get(pillar.value, [])
        )
        starter = {"id": starter_id, "pillar": pillar.value, "text": text, "day": today}
        out.append(Outgoing(RecommendationMade(
            recommendation_id=f"{view.relationship_id}:{today}:{starter_id}",
            kind=RecommendationKind.CONVERSATION_STARTER, pillar=pillar, text=text, made_at=now,
        ), None))  # fmt: skip
    return State(flags=flags, health=current, starter=starter, starters_used=used), out


# -- what one member sees ----------------------------------------------------------------


def visible_flags(state: State, member: str) -> list[dict[str, Any]]:
    return sorted(
        (f for f in state.flags.values() if f["member_id"] in (None, member)),
        key=lambda f: (f["raised_at"], f["code"]),
    )


def strengths(view: View, member: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    mine = view.member_days.get(member, {})
    streak, day = 0, view.today
    if not mine.get(day, {}).get("checkins"):
        day -= timedelta(days=1)  # today is not over yet
    while mine.get(day, {}).get("checkins"):
        streak, day = streak + 1, day - timedelta(days=1)
    if streak >= 3:
        found.append({"code": "checkin_streak", "days": streak,
                      "text": f"You have checked in {streak} days in a row."})  # fmt: skip
    responses = last_answered(view, 20)
    toward = responses.count("toward") / len(responses) if responses else 0.0
    if len(responses) >= 10 and toward >= 0.8:
        found.append({"code": "turning_toward", "ratio": round(toward, 2),
                      "text": "You answer each other's bids for connection warmly."})  # fmt: skip
    kept, not_kept = ritual_counts(view, 28)
    if kept + not_kept >= 4 and kept / (kept + not_kept) >= 0.75:
        found.append({"code": "rituals_kept", "kept": kept, "of": kept + not_kept,
                      "text": "You keep your rituals going."})  # fmt: skip
    return found


def recommendations(view: View, state: State, member: str, rules: Rules) -> list[dict[str, Any]]:
    codes = {f["code"] for f in visible_flags(state, member)}
    found: list[dict[str, Any]] = []

    def add(kind: RecommendationKind, text: str, pillar: str | None = None) -> None:
        found.append({"kind": kind.value, "text": text, "pillar": pillar})

    if state.starter:
        pillar = state.starter["pillar"]
        add(RecommendationKind.CONVERSATION_STARTER, state.starter["text"], pillar)
        add(RecommendationKind.RITUAL_TO_TRY, starters.RITUALS_TO_TRY[Pillar(pillar)], pillar)
    if codes & {"boundary_breached_repeatedly", "screens_crowding_presence"}:
        add(RecommendationKind.BOUNDARY_TO_DISCUSS, starters.BOUNDARY_TO_DISCUSS)
    if "intimacy_burnout" in codes:
        add(RecommendationKind.PAUSE, starters.PAUSE)
    if view.total("conflict_overwhelming", 2):
        add(RecommendationKind.COOL_DOWN_BREAK, starters.COOL_DOWN)
    persistent = view.now - timedelta(days=rules.persistent_flag_days)
    lasting = any(
        f["raised_at"] <= persistent for f in state.flags.values() if f["member_id"] is None
    )
    latest = view.assessments.get(member)
    if lasting or (latest is not None and latest.band == "needs_conversation"):
        add(RecommendationKind.OUTSIDE_SUPPORT, starters.OUTSIDE_SUPPORT)
    if view.member_total(member, "criticism_notes", 7):
        add(RecommendationKind.NVC_REFRAME, starters.NVC_REFRAME)
    return found
