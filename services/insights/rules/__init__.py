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
from shared.messages.flag_evidence import EVIDENCE
from shared.messages.vocabulary import FlagCode, Severity

ONE_MEMBER, BOTH_MEMBERS = "one_member", "both_members"


@dataclass(frozen=True)
class Finding:
    code: FlagCode
    member_id: str | None  # None: the whole relationship may see it
    evidence: dict[str, Any] = field(default_factory=dict)
    # Who reported what the flag rests on; a flag from one member's word says so.
    reporters: frozenset[str] = frozenset()

    @property
    def basis(self) -> str:
        if self.member_id is not None or len(self.reporters) == 1:
            return ONE_MEMBER
        return BOTH_MEMBERS

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
    title: str = ""
    summary: str = ""  # what the pattern is, in one plain sentence

    @property
    def evidence(self) -> dict[str, str]:
        """What each field of this rule's evidence holds (documented in the API schema)."""
        return EVIDENCE[self.code]

    @property
    def text_key(self) -> str:
        return f"insights.flag.{self.code.value}"


def relationship_finding(
    code: FlagCode, holds: bool, reporters: frozenset[str] = frozenset(), **evidence: Any
) -> list[Finding]:
    return [Finding(code, None, evidence, reporters)] if holds else []


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
