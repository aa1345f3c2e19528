"""A batch's contributions merged into one update per aggregate document."""

from __future__ import annotations

from datetime import UTC, datetime

from services.insights.domain import Contribution, evaluation_request
from services.insights.merging import merged_updates


def test_counters_add_up_extremes_are_kept_and_later_sets_win():
    found = [
        Contribution("days", "r1:d1", {"relationship_id": "r1"}, {"checkins": 1, "mood": 4},
                     {"last": "x"}, {"first_at": 5}, {"last_at": 5}),
        Contribution("days", "r1:d1", {"relationship_id": "r1", "day": "d1"}, {"checkins": 1,
                     "mood": 2}, {"last": "y"}, {"first_at": 3}, {"last_at": 9}),
        Contribution("days", "r1:d2", {}, {"checkins": 1}),
        Contribution("member_days", "r1:a:d1", {}, {"checkins": 1}),
    ]  # fmt: skip
    merged = merged_updates(found)
    (d1, d1_update), (d2, _) = merged["days"]
    assert (d1, d2) == ("r1:d1", "r1:d2")
    assert d1_update == {
        "$setOnInsert": {"relationship_id": "r1", "day": "d1"},
        "$inc": {"checkins": 2, "mood": 6},
        "$set": {"last": "y"},
        "$min": {"first_at": 3},
        "$max": {"last_at": 9},
    }
    assert merged["member_days"] == [("r1:a:d1", {"$inc": {"checkins": 1}})]


def test_pushed_entries_are_appended_together_sorted_and_capped():
    entries = [{"at": 2, "bid": "b2"}, {"at": 1, "bid": "b1"}]
    found = [Contribution("bids", "r1", push={"answers": e}) for e in entries]
    ((_key, update),) = merged_updates(found)["bids"]
    push = update["$push"]["answers"]
    assert push["$each"] == entries and push["$sort"] == {"at": 1, "bid": 1}
    assert push["$slice"] < 0


def test_a_field_set_is_not_also_set_on_insert():
    found = [Contribution("relationships", "r1", {"first_day": "d1"}),
             Contribution("relationships", "r1", set={"first_day": "d0"})]  # fmt: skip
    ((_key, update),) = merged_updates(found)["relationships"]
    assert update == {"$set": {"first_day": "d0"}}


def test_an_evaluation_request_joins_the_relationships_own_update():
    soon, later = datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 10, tzinfo=UTC)
    found = [
        Contribution("relationships", "r1", max={"hard_moment_at": 7}),
        evaluation_request("r1", later),
        evaluation_request("r1", soon),
        evaluation_request("r2", later),
    ]
    assert merged_updates(found)["relationships"] == [
        ("r1", {"$min": {"next_eval_at": soon}, "$max": {"hard_moment_at": 7}}),
        ("r2", {"$min": {"next_eval_at": later}}),
    ]
