"""Queries apply visibility: a private entry reaches its author only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


async def test_a_private_checkin_never_appears_in_another_members_timeline(alice, bo):
    private = await alice.cmd("log_checkin", mood=2, connection=3, note="only for me")
    shared = await alice.cmd("log_checkin", mood=4, connection=7, visibility="shared")
    assert private.visibility == "private"  # the default

    alice_sees = [e.id for e in (await alice.qry("timeline")).entries]
    bo_sees = [e.id for e in (await bo.qry("timeline")).entries]
    assert set(alice_sees) == {private.id, shared.id}
    assert bo_sees == [shared.id]
    assert private.id not in [e.id for e in (await bo.qry("timeline", kinds=["checkin"])).entries]


async def test_the_timeline_is_newest_first_and_pages_with_a_cursor(alice, bo):
    start = datetime.now(UTC) - timedelta(days=3)
    made = []
    for hours in range(7):
        made.append(
            await alice.cmd(
                "log_touch",
                kind="hug",
                sexual=False,
                visibility="shared",
                occurred_at=start + timedelta(hours=hours),
            )
        )
    seen, cursor = [], None
    while True:
        page = await bo.qry("timeline", limit=3, cursor=cursor)
        seen.extend(e.id for e in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.id for e in reversed(made)]


async def test_my_records_holds_what_i_wrote_in_every_relationship(rpc, alice, bo):
    from tests.support.checkin import Member

    await alice.cmd("log_touch", kind="hug", sexual=False)
    await bo.cmd("log_touch", kind="kiss", sexual=False)
    elsewhere = Member(rpc, "alice", "rel2", ["alice", "cy"])
    await elsewhere.cmd("log_checkin", mood=3, connection=5)
    records = (await alice.qry("my_records")).entries
    assert {(r.relationship_id, r.kind) for r in records} == {
        ("rel1", "touch"),
        ("rel2", "checkin"),
    }
    assert all(r.author_id == "alice" for r in records)


async def test_pages_split_ties_by_id_and_mix_own_private_entries_in_order(alice, bo):
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    made = []
    for n in range(5):  # all at the same instant: the id orders them
        made.append(
            await alice.cmd(
                "log_touch", kind="hug", sexual=False, occurred_at=at,
                visibility="shared" if n % 2 else "private",
            )
        )  # fmt: skip
    newest_first = sorted(made, key=lambda e: e.id, reverse=True)

    async def every_page(member) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await member.qry("timeline", limit=2, cursor=cursor)
            seen.extend(e.id for e in page.entries)
            if (cursor := page.next_cursor) is None:
                return seen

    assert await every_page(alice) == [e.id for e in newest_first]
    assert await every_page(bo) == [e.id for e in newest_first if e.visibility == "shared"]
