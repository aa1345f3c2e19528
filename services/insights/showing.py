"""What one member is shown: the `Insights` answer, from the view and the evaluation's state.

Pure: the query handler reads the view, the state and the members' answers (opening any
sealed notes), and this composes them; tools/insights_before_after.py calls it too, so
what the tool prints is what the query answers.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.insights import evaluation
from services.insights.domain import View
from services.insights.evaluation import State
from services.insights.settings import Rules
from shared.messages.views_rpc import (
    Flag,
    FlagResponse,
    Health,
    Insights,
    Recommendation,
    Strength,
)


def insights_for(
    view: View,
    state: State,
    member: str,
    rules: Rules,
    responses: Mapping[str, list[FlagResponse]],
    answered: set[str],
) -> Insights:
    """`responses`: the answers to each relationship-wide flag's current raising, by code;
    `answered`: the recommendations this member dismissed or did."""
    flags = []
    for f in evaluation.visible_flags(state, member):
        given = list(responses.get(f["code"], [])) if f["member_id"] is None else []
        flags.append(Flag(
            code=f["code"], title=f.get("title", ""), summary=f.get("summary", ""),
            text_key=f.get("text_key", f"insights.flag.{f['code']}"),
            severity=f["severity"], rule_version=f["rule_version"],
            basis=f.get("basis", "both_members"), raised_at=f["raised_at"],
            evidence=f["evidence"], suggestion=f["suggestion"], responses=given,
            can_respond=evaluation.may_answer(
                {**f, "responses": {r.member_id for r in given}}, member
            ),
        ))  # fmt: skip
    shown = evaluation.recommendations(view, state, member, rules, answered)
    return Insights(
        flags=flags,
        health=Health(**state.health) if state.health else Health(),
        strengths=[Strength(**s) for s in evaluation.strengths(view, member, rules)],
        recommendations=[Recommendation(**r) for r in shown],
    )
