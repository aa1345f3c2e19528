"""Evaluation: from the view and the flags already up to what is raised, cleared and shown.

Pure functions: the view and the prior state in, the new state and the events
to publish out. Queries use the same functions to show a member what is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.insights import starters
from services.insights.domain import NEED_PREFIX, View
from services.insights.rules import Finding, all_rules, rule_for
from services.insights.rules.bids import last_answered
from services.insights.rules.rituals import ritual_counts
from services.insights.settings import Rules
from shared.messages.base import EventData
from shared.messages.insights import FlagCleared, FlagRaised, HealthUpdated, RecommendationMade
from shared.messages.vocabulary import FlagCode, Pillar, RecommendationKind, Severity


@dataclass
class State:
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    starter: dict[str, Any] | None = None  # today's conversation starter, until it is shown
    ritual: dict[str, Any] | None = None  # the ritual to try, likewise
    starters_used: dict[str, list[str]] = field(default_factory=dict)
    rituals_used: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outgoing:
    data: EventData
    member_id: str | None  # private to this member, or shared with the relationship


# -- health ----------------------------------------------------------------------------


def _score(mean: float, top: int) -> float:
    return round((mean - 1) / (top - 1) * 100, 1)


def health(view: View, rules: Rules) -> dict[str, Any]:
    """Per-pillar health 0-100 over the window (shared check-ins), with the change from the
    window before. No score from fewer check-ins than the minimum sample, and no trend
    unless both windows have one."""
    t = rules.health
    days, least = t.window_days, t.min_sample
    out: dict[str, Any] = {}
    trend: dict[str, float] = {}
    sample: dict[str, int] = {}
    for pillar in Pillar:
        n = int(view.total(f"{pillar}_n", days))
        before_n = int(view.total(f"{pillar}_n", days, days))
        sample[pillar.value] = n
        mean = view.total(f"{pillar}_sum", days) / n if n >= max(least, 1) else None
        out[pillar.value] = None if mean is None else _score(mean, 5)
        if mean is not None and before_n >= max(least, 1):
            before = view.total(f"{pillar}_sum", days, days) / before_n
            trend[pillar.value] = round((mean - before) / 4 * 100, 1)
    known = [s for s in (out[p.value] for p in Pillar) if s is not None]
    checkins = int(view.total("checkins", days))
    sample["overall"] = checkins
    if known:
        overall: float | None = round(sum(known) / len(known), 1)
    elif checkins >= max(least, 1):
        overall = _score(view.total("connection_sum", days) / checkins, 10)
    else:
        overall = None
    return {
        **out, "overall": overall, "trend": trend, "sample_size": sample,
        "window_days": days, "min_sample": least, "time_zone": view.zones.relationship,
    }  # fmt: skip


def weakest_pillar(current: dict[str, Any], today_index: int) -> Pillar:
    known = [(float(current[p.value]), p) for p in Pillar if current.get(p.value) is not None]
    if known:
        return min(known, key=lambda pair: pair[0])[1]
    return list(Pillar)[today_index % 3]  # nothing known yet: take turns


# -- flags -----------------------------------------------------------------------------


def _flag(finding: Finding, earlier: dict[str, Any] | None, now: Any) -> dict[str, Any]:
    rule = rule_for(finding.code.value)
    return {
        "code": finding.code.value, "member_id": finding.member_id,
        "severity": rule.severity.value, "rule_version": rule.version,
        "title": rule.title, "summary": rule.summary, "text_key": rule.text_key,
        "evidence": finding.evidence, "basis": finding.basis,
        "reporters": sorted(finding.reporters),
        "raised_at": earlier["raised_at"] if earlier else now, "suggestion": rule.suggestion,
    }  # fmt: skip


def _held_back(view: View, rules: Rules) -> bool:
    """Deep starters wait a while after a hard moment (an intense conflict, a mood of 1)."""
    hard = view.hard_moment_at
    return hard is not None and view.now - hard < timedelta(hours=rules.starters.hold_deep_hours)


def _pick(
    current: dict[str, Any] | None,
    today: str,
    pool: list[starters.Text],
    used: list[str],
    held: bool,
) -> tuple[dict[str, Any] | None, list[str]]:
    """A new text once the day has turned and the current one was shown (or a deep one is
    now held back); None when the current one stays."""
    if current is not None:
        stale = current["day"] != today and current.get("shown", False)
        unfit = held and current.get("deep", False) and not current.get("shown", False)
        if not (stale or unfit):
            return None, used
        if unfit:  # not shown, so not used up: it comes back later
            used = [u for u in used if u != current["id"]]
    choice, used = starters.next_from(pool, used, allow_deep=not held)
    picked = {"id": choice.id, "day": today, "shown": False, "deep": choice.deep}
    return picked, used


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
        flags[key] = _flag(finding, earlier, now)
        if earlier is None:
            out.append(Outgoing(FlagRaised(
                code=finding.code, rule_version=rule.version, severity=rule.severity,
                member_id=finding.member_id, evidence=finding.evidence,
                suggestion=rule.suggestion, raised_at=now, title=rule.title,
                summary=rule.summary, basis=finding.basis,
            ), finding.member_id))  # fmt: skip
    for key, earlier in prior.flags.items():
        if key not in findings:
            out.append(Outgoing(FlagCleared(
                code=FlagCode(earlier["code"]), rule_version=earlier["rule_version"],
                member_id=earlier["member_id"], raised_at=earlier["raised_at"], cleared_at=now,
            ), earlier["member_id"]))  # fmt: skip

    current = health(view, rules)
    unchanged = {k: v for k, v in prior.health.items() if k != "as_of"} == current
    if unchanged:
        current = dict(prior.health)
    else:
        current["as_of"] = now
        out.append(Outgoing(HealthUpdated(
            emotional=current["emotional"], intellectual=current["intellectual"],
            physical=current["physical"], overall=current["overall"], trend=current["trend"],
            sample_size=current["sample_size"], time_zone=current["time_zone"], as_of=now,
        ), None))  # fmt: skip

    today = view.today.isoformat()
    held = _held_back(view, rules)
    pillar = weakest_pillar(current, view.today.toordinal())
    starters_used, rituals_used = dict(prior.starters_used), dict(prior.rituals_used)
    starter, used = None, starters_used.get(pillar.value, [])
    if not starters_paused(flags):  # while burnout shows, no new daily starter
        starter, used = _pick(
            prior.starter,
            today,
            starters.STARTERS[pillar],
            starters_used.get(pillar.value, []),
            held,
        )
    if starter is not None:
        starter["pillar"], starters_used[pillar.value] = pillar.value, used
        text = starters.by_id(starter["id"])
        assert text is not None
        out.append(Outgoing(RecommendationMade(
            recommendation_id=starter["id"], kind=RecommendationKind.CONVERSATION_STARTER,
            pillar=pillar, text=text.text, text_key=text.text_key, made_at=now,
        ), None))  # fmt: skip
    ritual, used = _pick(
        prior.ritual,
        today,
        starters.RITUALS_TO_TRY[pillar],
        rituals_used.get(pillar.value, []),
        held,
    )
    if ritual is not None:
        ritual["pillar"], rituals_used[pillar.value] = pillar.value, used
    state = State(
        flags=flags, health=current, starter=starter or prior.starter,
        ritual=ritual or prior.ritual, starters_used=starters_used, rituals_used=rituals_used,
    )  # fmt: skip
    return state, out


# -- what one member sees ----------------------------------------------------------------


def visible_flags(state: State, member: str) -> list[dict[str, Any]]:
    return sorted(
        (f for f in state.flags.values() if f["member_id"] in (None, member)),
        key=lambda f: (f["raised_at"], f["code"]),
    )


def may_answer(flag: dict[str, Any], member: str) -> bool:
    """Any member who sees a relationship-wide flag may answer it once per raising, except
    the only member whose reports it rests on: the answer is the other side's."""
    if flag["member_id"] is not None or member in flag.get("responses", {}):
        return False
    return not (flag.get("basis") == "one_member" and flag.get("reporters") == [member])


def strengths(view: View, member: str, rules: Rules) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(code: str, text: str, **details: Any) -> None:
        found.append({"id": code, "code": code, "text": text,
                      "text_key": f"insights.strength.{code}", **details})  # fmt: skip

    mine = view.member_days.get(member, {})
    streak, day = 0, view.member_today(member)  # the member's own calendar
    if not mine.get(day, {}).get("checkins"):
        day -= timedelta(days=1)  # today is not over yet
    while mine.get(day, {}).get("checkins"):
        streak, day = streak + 1, day - timedelta(days=1)
    if streak >= 3:
        add("checkin_streak", f"You have checked in {streak} days in a row.", days=streak)
    responses = last_answered(view, 20, rules.bids_turned_away.window_days)
    toward = responses.count("toward") / len(responses) if responses else 0.0
    if len(responses) >= 10 and toward >= 0.8:
        add("turning_toward", "You answer each other's bids for connection warmly.",
            ratio=round(toward, 2))  # fmt: skip
    kept, not_kept = ritual_counts(view, 28)
    if kept + not_kept >= 4 and kept / (kept + not_kept) >= 0.75:
        add("rituals_kept", "You keep your rituals going.", kept=kept, of=kept + not_kept)
    g = rules.gratitude
    thanks = int(view.total("gratitude_shared", g.window_days))
    if thanks >= g.min_shared:
        add("shared_gratitude", "You often share what you are grateful for with each other.",
            count=thanks, window_days=g.window_days)  # fmt: skip
    return found


def needs_named(view: View, member: str, rules: Rules) -> list[str]:
    """The needs this member named most in the window (their own check-ins only)."""
    t = rules.needs
    counts = view.member_prefixed(member, NEED_PREFIX, t.window_days)
    often = [(n, need) for need, n in counts.items() if n >= t.min_named]
    return [need for _, need in sorted(often, key=lambda pair: (-pair[0], pair[1]))[:3]]


def recommendations(
    view: View, state: State, member: str, rules: Rules, answered: set[str] | None = None
) -> list[dict[str, Any]]:
    """What this member is offered; those they dismissed or did are left out."""
    visible = visible_flags(state, member)
    codes = {f["code"] for f in visible}
    answered = answered or set()
    found: list[dict[str, Any]] = []

    def add(kind: RecommendationKind, rec_id: str, text: starters.Text,
            pillar: str | None = None, **params: list[str]) -> None:  # fmt: skip
        if rec_id in answered:  # dismissed ones never come back; done ones are done
            return
        body = text.text
        if params:  # the English text names them joined with "and"
            body = body.format(**{name: " and ".join(v) for name, v in params.items()})
        found.append({"id": rec_id, "kind": kind.value, "text": body, "text_key": text.text_key,
                      "pillar": pillar, "params": params or None})  # fmt: skip

    day = view.today.isoformat()
    if state.starter and (text := starters.by_id(state.starter["id"])):
        add(RecommendationKind.CONVERSATION_STARTER, text.id, text, state.starter["pillar"])
    if state.ritual and (text := starters.by_id(state.ritual["id"])):
        add(RecommendationKind.RITUAL_TO_TRY, text.id, text, state.ritual["pillar"])
    for code in sorted(codes & {"boundary_breached_repeatedly", "screens_crowding_presence"}):
        raised = next(f["raised_at"] for f in visible if f["code"] == code)
        add(
            RecommendationKind.BOUNDARY_TO_DISCUSS,
            f"boundary_to_discuss-{code}-{raised:%Y%m%d}",
            starters.BOUNDARY_TO_DISCUSS,
        )
        break  # one is enough
    if "intimacy_burnout" in codes:
        raised = next(f["raised_at"] for f in visible if f["code"] == "intimacy_burnout")
        add(RecommendationKind.PAUSE, f"pause-{raised:%Y%m%d}", starters.PAUSE)
    if view.total("conflict_overwhelming", 2):
        add(RecommendationKind.COOL_DOWN_BREAK, f"cool_down_break-{day}", starters.COOL_DOWN)
    persistent = view.now - timedelta(days=rules.persistent_flag_days)
    serious = [
        f for f in state.flags.values()
        if f["member_id"] is None and f.get("severity") == Severity.SERIOUS.value
    ]  # fmt: skip
    lasting = any(f["raised_at"] <= persistent for f in serious) or len(serious) >= 2
    latest = view.assessments.get(member)
    if lasting or (latest is not None and latest.band == "needs_conversation"):
        add(RecommendationKind.OUTSIDE_SUPPORT, "outside_support", starters.OUTSIDE_SUPPORT)
    if view.member_total(member, "criticism_notes", 7):
        add(RecommendationKind.NVC_REFRAME, f"nvc_reframe-{day}", starters.NVC_REFRAME)
    needs = needs_named(view, member, rules)
    if needs:
        # The needs go as a parameter too, so an app translating by text_key can name them.
        add(RecommendationKind.SHARE_A_NEED, f"share_a_need-{'-'.join(needs)}",
            starters.SHARE_A_NEED, needs=needs)  # fmt: skip
    return found


def recommendation_ids(view: View, state: State, member: str, rules: Rules) -> set[str]:
    return {r["id"] for r in recommendations(view, state, member, rules)}
