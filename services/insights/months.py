"""Days kept a month to a document.

The rules count by day: a relationship's days (domain.DAYS) and each member's own days
(domain.MEMBER_DAYS). A document per day made a burst of events over a few days an upsert
per day and member, and a view read up to 71 relationship days plus 61 per member. A
relationship's month is one document instead, keyed `<rid>:<YYYY-MM>`:

    {"_id": "r1:2026-12", "relationship_id": "r1", "month": "2026-12",
     "days": {"03": {"checkins": 2, ...}},                    # the relationship's days
     "members": {"<member>": {"03": {"held_back": 1, ...}}}}   # each member's own days

A batch of events touches a document per relationship and month, and a view reads three or
four. Reads name the months by `_id`, so the collection needs no secondary index, which
every write would otherwise pay for. A member's days stay theirs inside it: erasing them
takes `members.<member>` and leaves the others'.

Pure: contributions to day documents become contributions to month documents, and month
documents give back the day documents the domain reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.insights.domain import DAYS, MEMBER_DAYS, Contribution

MONTHS = "months"


def in_months(contribution: Contribution) -> Contribution:
    """The change a day's contribution makes to its month's document (any other
    contribution as it is)."""
    if contribution.collection not in (DAYS, MEMBER_DAYS):
        return contribution
    if contribution.push:
        raise ValueError("a day's counters are never pushed to")
    rid, day = str(contribution.on_insert["relationship_id"]), str(contribution.on_insert["day"])
    month, of_month = day[:7], day[8:10]
    member = contribution.on_insert.get("member_id")
    if member is not None and not _usable_in_a_path(str(member)):
        raise ValueError(f"a member id that cannot name a field: {member!r}")
    under = f"members.{member}.{of_month}" if member is not None else f"days.{of_month}"

    def under_day(values: dict[str, Any]) -> dict[str, Any]:
        return {f"{under}.{name}": value for name, value in values.items()}

    return Contribution(
        MONTHS,
        f"{rid}:{month}",
        {"relationship_id": rid, "month": month},
        under_day(contribution.inc),
        under_day(contribution.set),
        under_day(contribution.min),
        under_day(contribution.max),
    )


def _usable_in_a_path(name: str) -> bool:
    return bool(name) and "." not in name and not name.startswith("$")


def months_between(first: date, last: date) -> list[str]:
    """Every month from `first`'s to `last`'s, as YYYY-MM."""
    found, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def keys(relationship_id: str, months: list[str]) -> list[str]:
    """The `_id`s of a relationship's month documents."""
    return [f"{relationship_id}:{month}" for month in months]


def day_documents(month: dict[str, Any]) -> list[dict[str, Any]]:
    """The relationship's days a month document holds, as day documents had them."""
    rid, name = month["relationship_id"], month["month"]
    return [
        {"relationship_id": rid, "day": f"{name}-{of_month}", **counters}
        for of_month, counters in sorted(month.get("days", {}).items())
    ]


def member_day_documents(month: dict[str, Any], member: str | None = None) -> list[dict[str, Any]]:
    """Members' own days a month document holds (only `member`'s, if given), as member day
    documents had them."""
    rid, name = month["relationship_id"], month["month"]
    return [
        {"relationship_id": rid, "member_id": who, "day": f"{name}-{of_month}", **counters}
        for who, days in sorted(month.get("members", {}).items())
        if member is None or who == member
        for of_month, counters in sorted(days.items())
    ]


def old_day_as_contribution(collection: str, document: dict[str, Any]) -> Contribution:
    """A day document of the layout before months (`days`, `member_days`: one document a
    day) as the contribution that adds its counters to its month."""
    owner: dict[str, Any] = {
        k: document[k] for k in ("relationship_id", "member_id", "day") if k in document
    }
    counters = {k: v for k, v in document.items() if k != "_id" and k not in owner}
    return in_months(Contribution(collection, str(document["_id"]), owner, counters))
