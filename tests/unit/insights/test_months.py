"""Days kept a month to a document: the change a day's contribution makes to its month, and
the day documents a month gives back (services/insights/months.py)."""

from __future__ import annotations

from datetime import date

import pytest

from services.insights import months
from services.insights.domain import BIDS, DAYS, MEMBER_DAYS, Contribution
from services.insights.merging import merged_updates


def day(d: str, **inc: float) -> Contribution:
    return Contribution(DAYS, f"r1:{d}", {"relationship_id": "r1", "day": d}, inc)


def member_day(member: str, d: str, **inc: float) -> Contribution:
    owner = {"relationship_id": "r1", "member_id": member, "day": d}
    return Contribution(MEMBER_DAYS, f"r1:{member}:{d}", owner, inc)


def test_a_day_counts_under_its_month_with_its_relationship_set_on_insert():
    stored = months.in_months(day("2026-12-03", checkins=1, connection_sum=7))
    assert stored == Contribution(
        months.MONTHS,
        "r1:2026-12",
        {"relationship_id": "r1", "month": "2026-12"},
        {"days.03.checkins": 1, "days.03.connection_sum": 7},
    )


def test_a_members_day_counts_in_the_same_month_document_under_their_own_name():
    stored = months.in_months(member_day("ana", "2027-01-31", held_back=1))
    assert (stored.collection, stored.key) == (months.MONTHS, "r1:2027-01")
    assert stored.on_insert == {"relationship_id": "r1", "month": "2027-01"}
    assert stored.inc == {"members.ana.31.held_back": 1}


def test_other_contributions_are_stored_as_they_are():
    bid = Contribution(BIDS, "b1", {"relationship_id": "r1"}, set={"response": "toward"})
    assert months.in_months(bid) is bid


def test_a_months_days_merge_into_one_update_and_read_back_as_days():
    found = [day("2026-12-01", checkins=1), day("2026-12-02", checkins=1),
             day("2026-12-02", checkins=1), member_day("ana", "2026-12-02", checkins=1),
             member_day("ben", "2026-12-30", checkins=1)]  # fmt: skip
    ((key, update),) = merged_updates([months.in_months(c) for c in found])[months.MONTHS]
    assert key == "r1:2026-12"
    assert update["$inc"] == {
        "days.01.checkins": 1, "days.02.checkins": 2,
        "members.ana.02.checkins": 1, "members.ben.30.checkins": 1,
    }  # fmt: skip
    stored = {
        "_id": key, "relationship_id": "r1", "month": "2026-12",
        "days": {"02": {"checkins": 2}, "01": {"checkins": 1}},
        "members": {"ben": {"30": {"checkins": 1}}, "ana": {"02": {"checkins": 1}}},
    }  # fmt: skip
    assert months.day_documents(stored) == [
        {"relationship_id": "r1", "day": "2026-12-01", "checkins": 1},
        {"relationship_id": "r1", "day": "2026-12-02", "checkins": 2},
    ]
    assert months.member_day_documents(stored) == [
        {"relationship_id": "r1", "member_id": "ana", "day": "2026-12-02", "checkins": 1},
        {"relationship_id": "r1", "member_id": "ben", "day": "2026-12-30", "checkins": 1},
    ]
    assert [d["member_id"] for d in months.member_day_documents(stored, "ben")] == ["ben"]


def test_months_between_crosses_the_year():
    assert months.months_between(date(2026, 11, 20), date(2027, 2, 1)) == [
        "2026-11", "2026-12", "2027-01", "2027-02"
    ]  # fmt: skip
    assert months.months_between(date(2026, 11, 20), date(2026, 11, 21)) == ["2026-11"]
    assert months.keys("r1", ["2026-11", "2026-12"]) == ["r1:2026-11", "r1:2026-12"]


def test_a_day_document_of_the_old_layout_becomes_its_months_change():
    old = {"_id": "r1:ana:2026-10-09", "relationship_id": "r1", "member_id": "ana",
           "day": "2026-10-09", "checkins": 2, "need__space": 1}  # fmt: skip
    change = months.old_day_as_contribution(MEMBER_DAYS, old)
    assert (change.collection, change.key) == (months.MONTHS, "r1:2026-10")
    assert change.inc == {"members.ana.09.checkins": 2, "members.ana.09.need__space": 1}


@pytest.mark.parametrize("member", ["a.b", "$set", ""])
def test_a_member_id_that_cannot_name_a_field_is_refused(member: str):
    with pytest.raises(ValueError):
        months.in_months(member_day(member, "2026-12-03", checkins=1))


def test_a_pushed_day_counter_is_refused():
    pushed = Contribution(DAYS, "r1:2026-12-03", {"relationship_id": "r1", "day": "2026-12-03"},
                          push={"x": {"a": 1}})  # fmt: skip
    with pytest.raises(ValueError):
        months.in_months(pushed)
