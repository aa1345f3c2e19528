"""Three or more members: affection is read per pair of members, from the touch events on;
a ritual occurrence is kept when anyone completed it, whoever else skipped."""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import contributions
from shared.messages.base import DecodedEvent
from shared.messages.checkin import RitualCompleted, RitualSkipped, TouchLogged
from tests.unit.insights.test_convergence import outcome, wrap
from tests.unit.insights.views import NOW


def hug(author: str, partner: str, day: int, n: int) -> DecodedEvent:
    data = TouchLogged(touch_id=f"t-{author}-{partner}-{day}-{n}", author_id=author, kind="hug",
                       sexual=False, occurred_at=NOW - timedelta(days=day),
                       with_member_id=partner)  # fmt: skip
    return wrap(data, author, shared=True)


def hugs(author: str, partner: str, days: range, per_day: int) -> list[DecodedEvent]:
    return [hug(author, partner, day, n) for day in days for n in range(per_day)]


def test_affection_between_two_of_three_falls_without_the_thirds_touch_hiding_it():
    # For eight weeks Ana and Ben hug twice a day and Ana and Cy once. In the last two weeks
    # Ana and Ben stop, while Ana and Cy hug three times a day: the relationship-wide count
    # is unchanged, yet one pair's affection has fallen to nothing.
    before = range(14, 70)
    recent = range(0, 14)
    events = [
        *hugs("ana", "ben", before, 2), *hugs("ana", "cy", before, 1),
        *hugs("cy", "ana", recent, 3),
    ]  # fmt: skip
    store, flags, _ = outcome(events)
    assert "affection_drop" in flags
    (pair,) = flags["affection_drop"]["pairs"]
    assert pair["pair"] == ["ana", "ben"] and pair["recent"] == 0
    # Read relationship-wide only, the same touches hide it: the rate did not move.
    first_recent = (NOW - timedelta(days=13)).date().isoformat()
    days = store["days"].values()
    lately = sum(d["touch_nonsexual"] for d in days if d["day"] >= first_recent)
    earlier = sum(d["touch_nonsexual"] for d in days if d["day"] < first_recent)
    assert lately / 14 == earlier / 56 == 3.0
    assert "pairs" in flags["affection_drop"] and "ratio" in pair


def test_a_touch_with_someone_is_counted_for_that_pair_only_when_shared():
    data = TouchLogged(touch_id="t1", author_id="b", kind="hug", sexual=False,
                       occurred_at=NOW, with_member_id="a")  # fmt: skip
    shared = [c.inc for c in contributions(wrap(data, "b", shared=True))]
    assert {"touch_nonsexual": 1.0, "touch_pair__a~b": 1} in shared
    assert contributions(wrap(data, "b", shared=False)) == []


def walk(week: int, member: str, kept: bool) -> DecodedEvent:
    occurrence = NOW - timedelta(days=7 * week + 1)
    kind = RitualCompleted if kept else RitualSkipped
    data = kind(ritual_id="walk", occurrence=occurrence, member_id=member,
                occurred_at=occurrence + timedelta(hours=2))  # fmt: skip
    return wrap(data, member, shared=True)


def test_a_walk_counts_once_kept_when_anyone_went_and_skipped_only_when_all_who_answered_did():
    events = [
        walk(0, "ana", True),
        walk(0, "ben", False),
        walk(0, "cy", False),  # Ana went: kept
        walk(1, "ana", True),
        walk(1, "ben", True),  # two went, Cy said nothing: kept
        walk(2, "ben", False),
        walk(2, "cy", False),  # everyone who answered skipped
        walk(3, "cy", False),  # the only answer was a skip
    ]
    _, flags, _ = outcome(events)
    # Four walks, not eight answers; two not kept is half of them, which is the threshold.
    evidence = flags["avoiding_time_together"]
    assert (evidence["occurrences"], evidence["not_kept"]) == (4, 2)
    # Had anyone gone on the third walk, only one of four would be left aside: no flag.
    _, flags, _ = outcome([*events, walk(2, "ana", True)])
    assert "avoiding_time_together" not in flags
