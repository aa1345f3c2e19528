"""Three or more members: affection is read per pair of members, from the touch events on."""

from __future__ import annotations

from datetime import timedelta

from services.insights.domain import contributions
from shared.messages.base import DecodedEvent
from shared.messages.checkin import TouchLogged
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
