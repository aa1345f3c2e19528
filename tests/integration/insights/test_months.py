"""Days kept by the month against the real database: a view reads the days of the months it
needs, and day documents of the layout before months are folded into them at start-up,
each exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.insights import store
from services.insights.app import wire
from services.insights.domain import DAYS, MEMBER_DAYS, Contribution
from services.insights.months import MONTHS
from services.insights.settings import InsightsSettings
from shared.membership import MEMBERSHIPS
from shared.runtime import ServiceRuntime
from tests.support.runtimes import running

NOW = datetime.now(UTC)


def day(ago: int) -> str:
    return (NOW - timedelta(days=ago)).date().isoformat()


async def test_a_view_reads_the_days_of_its_window_across_months(make_settings, mongo):
    insights = ServiceRuntime(make_settings(InsightsSettings))
    wire(insights)
    async with running(insights):
        db = insights.db
        await db[MEMBERSHIPS].insert_one({"_id": "r1", "members": ["ana", "ben"]})
        found = [
            Contribution(
                DAYS, f"r1:{day(ago)}", {"relationship_id": "r1", "day": day(ago)}, {"checkins": 1}
            )
            for ago in (0, 1, 40, 70, 90)  # 90 days ago is outside every window
        ] + [
            Contribution(
                MEMBER_DAYS,
                f"r1:ana:{day(ago)}",
                {"relationship_id": "r1", "member_id": "ana", "day": day(ago)},
                {"checkins": 1},
            )
            for ago in (0, 35, 59, 75)  # 75 days ago is outside a member's window
        ]
        await insights.transact(lambda session: store.apply_merged(db, session, found))
        view = await store.load_view(db, "r1", NOW)
    assert sorted(d.isoformat() for d in view.days) == sorted(day(a) for a in (0, 1, 40, 70))
    assert sorted(d.isoformat() for d in view.member_days["ana"]) == sorted(
        day(a) for a in (0, 35, 59)
    )
    assert all(counters == {"checkins": 1} for counters in view.days.values())


async def test_day_documents_of_the_old_layout_move_into_months_once(make_settings, mongo):
    settings = make_settings(InsightsSettings)
    db = mongo[settings.database_name]
    await db[DAYS].insert_many([
        {"_id": f"r1:{day(ago)}", "relationship_id": "r1", "day": day(ago), "checkins": 2,
         "connection_sum": 13}
        for ago in (0, 1, 2)
    ])  # fmt: skip
    mine = {"relationship_id": "r1", "member_id": "ana", "day": day(0), "held_back": 1}
    await db[MEMBER_DAYS].insert_one({"_id": f"r1:ana:{day(0)}", **mine})
    for _ in range(2):  # a second start finds nothing left to move
        insights = ServiceRuntime(settings)
        wire(insights)
        async with running(insights):
            pass
    names = set(await db.list_collection_names())
    assert DAYS not in names and MEMBER_DAYS not in names
    assert MONTHS in names
    days = sorted(await store.load_days(db, "r1"), key=lambda d: d["day"])
    assert [(d["day"], d["checkins"], d["connection_sum"]) for d in days] == [
        (day(ago), 2, 13) for ago in (2, 1, 0)
    ]
    (mine,) = await store.load_days(db, "r1", member_id="ana")
    assert (mine["day"], mine["held_back"]) == (day(0), 1)
