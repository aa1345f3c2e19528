"""One valid example payload for every registered event type (used by round-trip tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

T = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
A, B = "m_alice", "m_bo"

SAMPLES: dict[str, dict[str, Any]] = {
    "checkin.logged": {
        "checkin_id": "c1", "author_id": A, "occurred_at": T, "mood": 4, "connection": 7,
        "pillars": {"emotional": 4, "physical": 3}, "feelings": ["calm"], "needs": ["heard"],
        "gratitude": "the soup", "note": "a good evening",
        "signals": {"held_back": True, "confided_elsewhere": False},
    },
    "bid.made": {
        "bid_id": "b1", "from_member_id": A, "to_member_id": B, "kind": "humor",
        "channel": "message", "occurred_at": T,
    },
    "bid.answered": {
        "bid_id": "b1", "from_member_id": A, "to_member_id": B, "response": "toward",
        "made_at": T, "occurred_at": T,
    },
    "touch.logged": {
        "touch_id": "t1", "author_id": A, "kind": "hug", "sexual": False, "minutes": 2,
        "occurred_at": T,
    },
    "time.logged": {
        "time_log_id": "tl1", "author_id": A, "date": date(2026, 11, 20),
        "screen_minutes": 200, "face_to_face_minutes": 45,
    },
    "boundary.proposed": {
        "boundary_id": "bd1", "proposed_by": A, "kind": "tech", "rule": "no phones at dinner",
        "window": {"start": "19:00", "end": "20:00", "days": ["mo", "tu"],
                   "timezone": "Europe/Berlin"},
        "awaiting": [B],
    },
    "boundary.accepted": {"boundary_id": "bd1", "member_id": B, "awaiting": []},
    "boundary.activated": {"boundary_id": "bd1", "kind": "tech", "accepted_by": [A, B],
                           "proposed_by": A},
    "boundary.retired": {"boundary_id": "bd1", "retired_by": A},
    "boundary.breached": {
        "breach_id": "br1", "boundary_id": "bd1", "reported_by": B, "occurred_at": T,
    },
    "conflict.logged": {
        "conflict_id": "cf1", "author_id": A, "topic": "chores", "intensity": 3,
        "shut_down": True, "occurred_at": T,
    },
    "conflict.perspective_added": {
        "conflict_id": "cf1", "author_id": B, "intensity": 4, "sarcasm_or_contempt": True,
        "conflict_occurred_at": T, "occurred_at": T,
    },
    "repair.logged": {
        "repair_id": "r1", "conflict_id": "cf1", "author_id": B, "felt": "relieved",
        "occurred_at": T,
    },
    "assessment.completed": {
        "assessment_id": "as1", "member_id": A, "answers": [True] * 8 + [False] * 2,
        "score": 8, "band": "room_to_grow", "occurred_at": T,
    },
    "ritual.created": {
        "ritual_id": "rt1", "created_by": A, "title": "Sunday walk",
        "rrule": "FREQ=WEEKLY;BYDAY=SU", "timezone": "Europe/Berlin",
        "starts_at": datetime(2026, 11, 22, 10, 0), "duration_minutes": 60,
    },
    "ritual.completed": {"ritual_id": "rt1", "occurrence": T, "member_id": A, "occurred_at": T},
    "ritual.skipped": {
        "ritual_id": "rt1", "occurrence": T, "member_id": A, "reason": "rain", "occurred_at": T,
    },
    "reminder.due": {
        "reminder_id": "rm1", "member_id": A, "kind": "checkin", "local_date": date(2026, 11, 20),
        "due_at": T,
    },
    "ritual.due": {"ritual_id": "rt1", "occurrence": T, "ends_at": T},
    "ritual.missed": {"ritual_id": "rt1", "occurrence": T},
    "boundary.window_opened": {"boundary_id": "bd1", "opens_at": T, "closes_at": T},
    "boundary.window_closed": {"boundary_id": "bd1", "opened_at": T, "closes_at": T},
    "review.due": {"review_id": "rv1", "period": "monthly", "due_at": T},
    "program.proposed": {"program_id": "p1", "proposed_by": A},
    "program.accepted": {"program_id": "p1", "member_id": B, "started_at": T, "ends_at": T},
    "program.ended": {"program_id": "p1", "ended_at": T},
    "date.proposed": {"date_id": "d1", "starts_at": T, "timezone": "Europe/Berlin",
                      "duration_minutes": 60, "kind": "video", "proposed_by": A},
    "date.accepted": {"date_id": "d1", "starts_at": T, "timezone": "Europe/Berlin",
                      "duration_minutes": 60, "kind": "video", "member_id": B, "confirmed": True},
    "date.declined": {"date_id": "d1", "starts_at": T, "timezone": "Europe/Berlin",
                      "duration_minutes": 60, "kind": "call", "member_id": B},
    "date.reminded": {"date_id": "d1", "starts_at": T, "timezone": "Europe/Berlin",
                      "duration_minutes": 60, "kind": "play", "minutes_before": 30},
    "date.happened": {"date_id": "d1", "starts_at": T, "timezone": "Europe/Berlin",
                      "duration_minutes": 60, "kind": "watch_together"},
    "program.stage_started": {
        "program_id": "p1", "stage": "name_the_breach", "prompt_codes": ["p.naming.1"],
        "starts_at": T,
    },
    "insight.flag_raised": {
        "code": "stonewalling", "rule_version": 1, "severity": "warning",
        "evidence": {"count": 3, "window_days": 30}, "suggestion": "Take a break.",
        "raised_at": T,
    },
    "insight.flag_cleared": {
        "code": "stonewalling", "rule_version": 1, "raised_at": T, "cleared_at": T,
    },
    "insight.health_updated": {
        "emotional": 60.0, "intellectual": 55.5, "physical": 40.0, "overall": 52.0,
        "trend": {"emotional": 2.5}, "as_of": T,
    },
    "insight.recommendation": {
        "recommendation_id": "rc1", "kind": "conversation_starter", "pillar": "emotional",
        "text": "Ask about a small worry.", "made_at": T,
    },
    "relationship.created": {"created_by": A, "members": [A], "membership_version": 1},
    "relationship.member_joined": {"member_id": B, "members": [A, B], "membership_version": 2},
    "relationship.member_left": {"member_id": B, "members": [A], "membership_version": 3},
    "relationship.erased": {"erased_at": T},
    "member.updated": {
        "member_id": A, "timezone": "Europe/Berlin",
        "quiet_hours": {"start": "22:00", "end": "07:00"}, "checkin_reminder_time": "20:30",
    },
    "member.erased": {"erasure_id": "e1", "member_id": A, "relationship_ids": ["r1"],
                      "left_relationship_ids": ["r2"], "erased_at": T},
    "checkin.erasure_confirmed": {"erasure_id": "e1", "member_id": A},
    "insights.erasure_confirmed": {"erasure_id": "e1", "member_id": A},
    "scheduler.erasure_confirmed": {"erasure_id": "e1", "member_id": A},
}  # fmt: skip
