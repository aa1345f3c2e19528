"""The domain rules hold end to end, and every violation is a typed error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.checkin.store import COMMANDS, ENTRIES
from shared.problems import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.checkin import Member, checkin_events
from tests.support.waiting import eventually


async def test_the_wrong_member_cannot_answer_a_bid_and_nobody_answers_twice(alice, bo):
    bid = await alice.cmd("make_bid", to_member_id="bo", kind="attention", channel="in_person")
    with pytest.raises(Forbidden):
        await alice.cmd("answer_bid", bid_id=bid.id, response="toward")
    await bo.cmd("answer_bid", bid_id=bid.id, response="away")
    with pytest.raises(Conflict, match="already been answered"):
        await bo.cmd("answer_bid", bid_id=bid.id, response="toward")
    assert (await bo.qry("open_bids")).entries == []


async def test_one_acceptance_of_two_stays_proposed_and_a_breach_needs_an_active_boundary(
    alice, bo
):
    boundary = await alice.cmd("propose_boundary", kind="alone_time", rule="an hour to myself")
    assert boundary.fields["awaiting"] == ["bo"]
    with pytest.raises(Conflict, match="active boundary"):
        await bo.cmd("report_breach", boundary_id=boundary.id)
    listed = (await bo.qry("boundaries")).entries
    assert [(b.id, b.fields["status"]) for b in listed] == [(boundary.id, "proposed")]


async def test_two_of_three_acceptances_stay_proposed(rpc):
    trio = ["ann", "ben", "cy"]
    ann, ben, cy = (Member(rpc, m, "trio", trio) for m in trio)
    boundary = await ann.cmd("propose_boundary", kind="emotional", rule="no name-calling")
    assert (await ben.cmd("accept_boundary", boundary_id=boundary.id)).fields[
        "status"
    ] == "proposed"
    done = await cy.cmd("accept_boundary", boundary_id=boundary.id)
    assert done.fields["status"] == "active"


async def test_a_member_who_joined_later_sees_the_boundary_awaiting_them(rpc):
    first = Member(rpc, "ann", "grow", ["ann", "ben"], version=1)
    boundary = await first.cmd("propose_boundary", kind="tech", rule="screens off at ten")
    await Member(rpc, "ben", "grow", ["ann", "ben"]).cmd("accept_boundary", boundary_id=boundary.id)
    cy = Member(rpc, "cy", "grow", ["ann", "ben", "cy"], version=2)
    listed = (await cy.qry("boundaries")).entries[0]
    assert (listed.fields["status"], listed.fields["awaiting"]) == ("proposed", ["cy"])
    with pytest.raises(Conflict):
        await cy.cmd("report_breach", boundary_id=boundary.id)


async def test_a_repeated_command_id_returns_the_first_result_and_writes_nothing(
    checkin, alice, nats_client
):
    first = await alice.cmd("log_touch", command_id="key-1", kind="kiss", sexual=False)
    again = await alice.cmd("log_touch", command_id="key-1", kind="kiss", sexual=False)
    assert again == first
    assert await checkin.db[ENTRIES].count_documents({}) == 1
    assert await checkin.db[ENTRIES].count_documents({"commands.id": "key-1"}) == 1
    assert await checkin.db[COMMANDS].count_documents({}) == 0  # kept in the entry itself

    async def one_event() -> bool:
        return len(await checkin_events(nats_client, checkin.settings.namespace, "rel1")) == 1

    await eventually(one_event)
    with pytest.raises(Conflict, match="different request"):
        await alice.cmd("log_touch", command_id="key-1", kind="hug", sexual=False)


async def test_a_repair_closes_its_conflict_once(alice, bo):
    conflict = await alice.cmd("log_conflict", topic="money", intensity=4, visibility="shared")
    await bo.cmd("log_repair", conflict_id=conflict.id, felt="connected")
    with pytest.raises(Conflict, match="already repaired"):
        await alice.cmd("log_repair", conflict_id=conflict.id, felt="connected")


async def test_a_private_conflict_is_invisible_to_the_partner(alice, bo):
    conflict = await alice.cmd("log_conflict", topic="my own worry", intensity=2)
    with pytest.raises(NotFound):
        await bo.cmd("log_repair", conflict_id=conflict.id, felt="connected")


async def test_ritual_outcomes_need_a_real_occurrence_and_each_member_records_one(alice, bo):
    ritual = await alice.cmd(
        "create_ritual", title="Question before bed", rrule="FREQ=DAILY",
        timezone="America/New_York", starts_at="2026-11-01T22:00:00", duration_minutes=15,
    )  # fmt: skip
    real = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 22:00 in New York (EST)
    with pytest.raises(InvalidInput, match="not an occurrence"):
        await bo.cmd("record_ritual_outcome", ritual_id=ritual.id,
                     occurrence=real + timedelta(minutes=30), outcome="completed")  # fmt: skip
    await bo.cmd("record_ritual_outcome", ritual_id=ritual.id, occurrence=real, outcome="completed")
    with pytest.raises(Conflict, match="already has an outcome"):
        await bo.cmd("record_ritual_outcome", ritual_id=ritual.id, occurrence=real,
                     outcome="skipped")  # fmt: skip
    # Each member records their own outcome: Alice could not make it.
    await alice.cmd("record_ritual_outcome", ritual_id=ritual.id, occurrence=real,
                    outcome="skipped")  # fmt: skip


async def test_eight_yes_answers_give_room_to_grow_and_nine_are_strong(alice):
    eight = await alice.cmd("complete_assessment", answers=[True] * 8 + [False] * 2)
    nine = await alice.cmd("complete_assessment", answers=[True] * 9 + [False])
    assert eight.fields["band"] == "room_to_grow"
    assert nine.fields["band"] == "strong"
    assert eight.visibility == "private"


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("log_checkin", {"mood": 6, "connection": 5}, "mood"),
        ("log_checkin", {"mood": 3, "connection": 5, "needs": ["ponies"]}, "needs.0"),
        ("log_checkin", {"mood": 3, "connection": 5, "note": "x" * 2001}, "note"),
        ("log_touch", {"kind": "hug", "sexual": False,
                       "occurred_at": datetime.now(UTC) + timedelta(hours=1)}, "occurred_at"),
        ("complete_assessment", {"answers": [True] * 11}, "answers"),
        ("create_ritual", {"title": "x", "rrule": "FREQ=DAILY", "timezone": "Mars/Olympus",
                           "starts_at": "2026-11-01T10:00:00", "duration_minutes": 10},
         "timezone"),
        ("create_ritual", {"title": "x", "rrule": "FREQ=MINUTELY", "timezone": "UTC",
                           "starts_at": "2026-11-01T10:00:00", "duration_minutes": 10}, "rrule"),
        ("make_bid", {"to_member_id": "alice", "kind": "humor", "channel": "call"},
         "to_member_id"),
    ],
)  # fmt: skip
async def test_invalid_input_is_a_422_naming_the_field(checkin, alice, name, payload, field):
    with pytest.raises(InvalidInput) as caught:
        await alice.send_raw(name, **payload)
    assert caught.value.field == field
    assert caught.value.status == 422
    assert await checkin.db[ENTRIES].count_documents({}) == 0


# Rules with no occurrence: once, each one scanned dateutil's calendar to the year 9999 on
# checkin's event loop (seconds each).
NEVER_OCCUR = [
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1,2,3",
    "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2,4",
    "FREQ=MONTHLY;BYDAY=MO,1TU",
]


async def test_rules_that_never_occur_are_refused_and_checkin_keeps_answering(checkin, alice):
    ritual = {"title": "never", "timezone": "UTC", "starts_at": "2026-11-01T10:00:00",
              "duration_minutes": 10}  # fmt: skip
    refusals = [alice.send_raw("create_ritual", **ritual, rrule=rule) for rule in NEVER_OCCUR]
    # All at once, and a check-in with them: each answers within the call's timeout (5 s).
    *answers, logged = await asyncio.gather(
        *refusals, alice.cmd("log_checkin", mood=4, connection=4), return_exceptions=True
    )
    for answer in answers:
        assert isinstance(answer, InvalidInput), answer
        assert answer.field == "rrule"
    assert not isinstance(logged, BaseException), logged
    assert await checkin.db[ENTRIES].count_documents({"kind": "ritual"}) == 0


async def test_a_non_member_and_a_foreign_entry_are_both_not_found(rpc, alice):
    stranger = Member(rpc, "mallory", "rel1", ["alice", "bo"])
    with pytest.raises(NotFound, match="relationship not found"):
        await stranger.cmd("log_touch", kind="hug", sexual=False)
    with pytest.raises(NotFound):
        await stranger.qry("timeline")
    bid = await alice.cmd("make_bid", to_member_id="bo", kind="help", channel="call")
    elsewhere = Member(rpc, "bo", "other-rel", ["alice", "bo"])
    with pytest.raises(NotFound):
        await elsewhere.cmd("answer_bid", bid_id=bid.id, response="toward")


async def test_touch_with_someone_must_name_another_member(alice, bo):
    entry = await alice.cmd("log_touch", kind="hug", sexual=False, with_member_id="bo")
    assert entry.fields["with_member_id"] == "bo"
    with pytest.raises(InvalidInput, match="not a member"):
        await alice.cmd("log_touch", kind="hug", sexual=False, with_member_id="stranger")
    with pytest.raises(InvalidInput, match="someone else"):
        await alice.cmd("log_touch", kind="hug", sexual=False, with_member_id="alice")
