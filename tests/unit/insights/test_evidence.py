"""Each flag's evidence holds exactly the fields documented for its rule (flag_evidence.EVIDENCE,
which the OpenAPI schema describes): one firing example per rule, two where the shape varies."""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import Bid, Report, View
from services.insights.rules import all_rules
from services.insights.settings import Rules
from shared.messages.flag_evidence import EVIDENCE
from tests.unit.insights.views import NOW, answered, conflict, occurrence, spread, view

RULES = Rules()


def merged(*parts: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    days: dict[int, dict[str, float]] = {}
    for part in parts:
        for ago, counters in part.items():
            days.setdefault(ago, {}).update(counters)
    return days


def weeks_of_screens() -> dict[int, dict[str, float]]:
    """Screens up and time together down every week, under an hour a day this week."""
    return {
        (2 - week) * 7 + d: {"screen_minutes": 100 + 10 * week,
                             "face_to_face_minutes": 50 - 5 * week, "time_logs": 1}
        for week in range(3) for d in range(7)
    }  # fmt: skip


def firing() -> list[View]:
    """Views under which every rule holds, between them."""
    every_mark = Report("a", 3, shut_down=True, sarcasm_or_contempt=True, avoided_eye_contact=True)
    left_open = [Bid(NOW - timedelta(days=2, hours=i), None, None) for i in range(5)]
    return [
        view(bids=answered(["away"] * 20)),
        view(bids=left_open),
        view(conflicts=[conflict(d, every_mark) for d in (1, 2, 3)]),
        view(days={0: {"repair_relieved": 3}}),
        view(  # affection: the relationship as a whole
            days=merged(spread("touch_nonsexual", 2, 14, 69), spread("touch_nonsexual", 0, 0, 13)),
            first_day_ago=69,
        ),
        view(  # affection: one pair only, the relationship's total unchanged
            days=merged(
                spread("touch_nonsexual", 3, 0, 69),
                spread("touch_pair__a~b", 2, 14, 69), spread("touch_pair__a~c", 1, 14, 69),
                spread("touch_pair__a~c", 3, 0, 13),
            ),
            first_day_ago=69,
        ),
        view(occurrences=[occurrence(d, skipped=True) for d in (1, 8, 15, 22)]),
        view(member_days={"a": {0: {"held_back": 3, "confided_elsewhere": 3}}}),
        view(days={0: {"breach__x": 3, "breach_by__x:a": 3}}),
        view(days=weeks_of_screens()),
        view(days=merged(
            {d: {"exercises": 2, "checkins": 1, "connection_sum": 6} for d in range(7)},
            {d: {"checkins": 1, "connection_sum": 8} for d in range(7, 14)},
        )),
    ]  # fmt: skip


def test_every_rules_evidence_is_exactly_what_its_documentation_lists():
    emitted: dict[str, set[str]] = {}
    for v in firing():
        for rule in all_rules():
            for finding in rule.evaluate(v, RULES):
                fields = set(finding.evidence)
                documented = set(EVIDENCE[finding.code])
                assert fields <= documented, (finding.code, fields - documented)
                emitted.setdefault(finding.code.value, set()).update(fields)
    assert set(emitted) == {rule.code.value for rule in all_rules()}  # every rule fired
    for code, described in EVIDENCE.items():
        assert set(described) == emitted[code.value], code  # nothing documented that never comes
