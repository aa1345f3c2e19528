"""The thirteen signals: each a named, versioned rule over the aggregates view.

A rule returns its findings (who may see them, and the evidence that made it
hold); the evaluation compares them with the flags already up to raise and
clear. Thresholds come from settings (`Rules`), never from code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.insights.domain import View
from services.insights.settings import Rules
from shared.messages.vocabulary import FlagCode, Severity


@dataclass(frozen=True)
class Finding:
    code: FlagCode
    member_id: str | None  # None: the whole relationship may see it
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.code.value if self.member_id is None else f"{self.code.value}:{self.member_id}"


Evaluate = Callable[[View, Rules], list[Finding]]


@dataclass(frozen=True)
class Rule:
    code: FlagCode
    version: int
    severity: Severity
    suggestion: str
    evaluate: Evaluate


def relationship_finding(code: FlagCode, holds: bool, **evidence: Any) -> list[Finding]:
    return [Finding(code, None, evidence)] if holds else []


def all_rules() -> list[Rule]:
    from services.insights.rules import (
        affection,
        bids,
        boundaries,
        burnout,
        conflicts,
        rituals,
        screens,
        self_reports,
    )

    modules = (bids, conflicts, affection, rituals, self_reports, boundaries, screens, burnout)
    return [rule for module in modules for rule in module.RULES]


def rule_for(code: str) -> Rule:
    return {rule.code.value: rule for rule in all_rules()}[code]
