"""tools/insights_before_after.py against today's code: the history it replays shows what
docs/insights.md says it shows (the "before" side needs the old tree; see the tool)."""

from __future__ import annotations

from tools.insights_before_after import after, history


def test_the_history_raises_nothing_today_keeps_the_streak_and_scores_no_pillar():
    r1, r2 = (after(rel) for rel in history(before=False))
    for member in ("ana", "ben"):
        seen = r1[member]
        assert seen["flags"] == []
        health = seen["health"]
        assert [health[p] for p in ("emotional", "intellectual", "physical")] == [None] * 3
        assert health["sample_size"] == {"emotional": 1, "intellectual": 1, "physical": 1,
                                         "overall": 7}  # fmt: skip
        assert health["trend"] == {} and health["time_zone"] == "Europe/Berlin"
        strengths = {s["code"]: s for s in seen["strengths"]}
        assert {"turning_toward", "rituals_kept"} <= set(strengths)
    ana_streak = {s["code"]: s for s in r1["ana"]["strengths"]}["checkin_streak"]
    assert ana_streak["days"] == 3  # her Los Angeles days, across UTC midnight
    assert r2["cy"]["flags"] == r2["dee"]["flags"] == []  # the turned-away bids are old
