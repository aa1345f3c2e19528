"""The checkin service's rules: pure functions over plain data. Time is passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.messages.vocabulary import AssessmentBand
from shared.problems import Conflict, Forbidden, InvalidInput
from shared.recurrence import is_occurrence

MAX_AHEAD = timedelta(minutes=5)
MAX_BACK = timedelta(days=400)


# -- time and membership ---------------------------------------------------------------


def to_millis(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds: round here so a reply and a later read agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def occurred(occurred_at: datetime | None, now: datetime) -> datetime:
    """When a fact happened: now by default, never more than 5 min ahead or 400 days back."""
    if occurred_at is None:
        return now
    occurred_at = to_millis(occurred_at)
    if occurred_at > now + MAX_AHEAD:
        raise InvalidInput("occurred_at lies in the future", field="occurred_at")
    if occurred_at < now - MAX_BACK:
        raise InvalidInput("occurred_at is more than 400 days ago", field="occurred_at")
    return occurred_at


# Blanket criticism ("you always ...", "you never ...") earns its author a reframe suggestion.
_CRITICISM = re.compile(r"\byou\s+(always|never)\b", re.IGNORECASE)


def reads_as_criticism(note: str | None) -> bool:
    return bool(note and _CRITICISM.search(note))


# -- bids ------------------------------------------------------------------------------


def check_touch_partner(actor: str, partner: str | None, members: frozenset[str]) -> None:
    if partner is None:
        return
    if partner == actor:
        raise InvalidInput("touch is shared with someone else", field="with_member_id")
    if partner not in members:
        raise InvalidInput("that person is not a member", field="with_member_id")


def check_bid_target(actor: str, to_member: str, members: frozenset[str]) -> None:
    if to_member == actor:
        raise InvalidInput("a bid reaches out to someone else", field="to_member_id")
    if to_member not in members:
        raise InvalidInput("the bid's target is not a member", field="to_member_id")


@dataclass(frozen=True)
class BidState:
    from_member_id: str
    to_member_id: str
    answered: bool


def check_bid_answer(bid: BidState, actor: str) -> None:
    if actor != bid.to_member_id:
        raise Forbidden("only the member the bid was made to can answer it", code="not_bid_target")
    if bid.answered:
        raise Conflict("this bid has already been answered", code="bid_already_answered")


# -- boundaries ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryState:
    accepted_by: frozenset[str]
    retired: bool


def boundary_status(boundary: BoundaryState, members: frozenset[str]) -> str:
    """Active only while every *current* member has accepted it; a newcomer must accept too."""
    if boundary.retired:
        return "retired"
    return "active" if members and members <= boundary.accepted_by else "proposed"


def awaiting(boundary: BoundaryState, members: frozenset[str]) -> list[str]:
    return sorted(members - boundary.accepted_by)


def accept_boundary(
    boundary: BoundaryState, actor: str, members: frozenset[str]
) -> tuple[BoundaryState, bool]:
    """Record the actor's acceptance; returns the new state and whether it just became active."""
    if boundary.retired:
        raise Conflict("this boundary was retired", code="boundary_retired")
    if actor in boundary.accepted_by:
        raise Conflict("you already accepted this boundary", code="boundary_already_accepted")
    before = boundary_status(boundary, members)
    after = BoundaryState(accepted_by=boundary.accepted_by | {actor}, retired=False)
    return after, before != "active" and boundary_status(after, members) == "active"


def retire_boundary(boundary: BoundaryState) -> BoundaryState:
    # Any member may retire a boundary: an agreement someone no longer holds is not mutual.
    if boundary.retired:
        raise Conflict("this boundary was already retired", code="boundary_retired")
    return BoundaryState(accepted_by=boundary.accepted_by, retired=True)


def check_breach(boundary: BoundaryState, members: frozenset[str]) -> None:
    if boundary_status(boundary, members) != "active":
        raise Conflict(
            "a breach can only be reported against an active boundary", code="boundary_not_active"
        )


# -- conflicts -------------------------------------------------------------------------


def check_perspective(actor: str, author: str, perspectives: dict[str, object]) -> None:
    """Only another member adds a perspective to a conflict, and each of them once."""
    if actor == author:
        raise Forbidden(
            "you logged this conflict; a perspective is for the other member(s)",
            code="own_conflict",
        )
    if actor in perspectives:
        raise Conflict(
            "you already gave your perspective on this conflict", code="perspective_already_added"
        )


def check_repair(repaired: bool) -> None:
    if repaired:
        raise Conflict("this conflict was already repaired", code="conflict_already_repaired")


# -- assessment ------------------------------------------------------------------------


def score_assessment(answers: list[bool]) -> tuple[int, AssessmentBand]:
    if len(answers) != 10:
        raise InvalidInput("the assessment takes exactly ten answers", field="answers")
    score = sum(answers)
    if score >= 9:
        return score, AssessmentBand.STRONG
    if score >= 5:
        return score, AssessmentBand.ROOM_TO_GROW
    return score, AssessmentBand.NEEDS_CONVERSATION


# -- rituals ---------------------------------------------------------------------------


def check_outcome(
    rule: str,
    timezone: str,
    start_local: datetime,
    occurrence: datetime,
    now: datetime,
    already_recorded: bool,
) -> None:
    if not is_occurrence(rule, timezone, start_local, occurrence):
        raise InvalidInput("that time is not an occurrence of this ritual", field="occurrence")
    if occurrence > now + MAX_AHEAD:
        raise InvalidInput("this occurrence has not started yet", field="occurrence")
    if already_recorded:
        raise Conflict(
            "you already recorded how this occurrence went (it already has an outcome)",
            code="outcome_already_recorded",
        )
