"""Every command writes one record and publishes one event (read back from JetStream)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.checkin.store import ENTRIES
from tests.support.checkin import Member, checkin_events
from tests.support.waiting import eventually

SUNDAY_10_BERLIN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_every_command_writes_one_record_and_publishes_its_event(
    checkin, alice: Member, bo: Member, nats_client
):
    db, ns = checkin.db, checkin.settings.namespace
    published: list[str] = []

    async def expect(new_entries: int, new_types: list[str], before: int) -> None:
        assert await db[ENTRIES].count_documents({}) == before + new_entries
        published.extend(new_types)

        async def arrived() -> bool:
            return [e["type"] for e in await checkin_events(nats_client, ns, "rel1")] == published

        await eventually(arrived)

    async def step(member: Member, name: str, entries: int, types: list[str], **payload):
        before = await db[ENTRIES].count_documents({})
        result = await member.cmd(name, **payload)
        await expect(entries, types, before)
        return result

    # fmt: off
    await step(alice, "log_checkin", 1, ["checkin.logged"], mood=4, connection=8,
               pillars={"emotional": 4}, needs=["heard"], note="long day", visibility="shared")
    bid = await step(alice, "make_bid", 1, ["bid.made"], to_member_id="bo", kind="humor",
                     channel="message")
    assert bid.fields["status"] == "open"
    answered = await step(bo, "answer_bid", 0, ["bid.answered"], bid_id=bid.id, response="toward")
    assert answered.fields["response"] == "toward"
    await step(bo, "log_touch", 1, ["touch.logged"], kind="hug", sexual=False, minutes=2)
    await step(bo, "log_time", 1, ["time.logged"], date="2026-11-25", screen_minutes=200,
               face_to_face_minutes=40)
    boundary = await step(alice, "propose_boundary", 1, ["boundary.proposed"], kind="tech",
                          rule="no phones at dinner",
                          window={"start": "19:00", "end": "20:00", "timezone": "Europe/Berlin"})
    assert boundary.fields["status"] == "proposed"
    accepted = await step(bo, "accept_boundary", 0, ["boundary.accepted", "boundary.activated"],
                          boundary_id=boundary.id)
    assert accepted.fields["status"] == "active"
    await step(bo, "report_breach", 1, ["boundary.breached"], boundary_id=boundary.id)
    conflict = await step(alice, "log_conflict", 1, ["conflict.logged"], topic="chores",
                          intensity=3, shut_down=True, visibility="shared")
    await step(bo, "log_repair", 1, ["repair.logged"], conflict_id=conflict.id, felt="relieved")
    assessment = await step(alice, "complete_assessment", 1, ["assessment.completed"],
                            answers=[True] * 8 + [False] * 2)
    assert (assessment.fields["score"], assessment.fields["band"]) == (8, "room_to_grow")
    ritual = await step(alice, "create_ritual", 1, ["ritual.created"], title="Sunday walk",
                        rrule="FREQ=WEEKLY;BYDAY=SU", timezone="Europe/Berlin",
                        starts_at="2026-11-01T10:00:00", duration_minutes=60)
    await step(bo, "record_ritual_outcome", 1, ["ritual.completed"], ritual_id=ritual.id,
               occurrence=SUNDAY_10_BERLIN, outcome="completed")
    await step(alice, "record_ritual_outcome", 1, ["ritual.skipped"], ritual_id=ritual.id,
               occurrence=datetime(2026, 11, 15, 9, 0, tzinfo=UTC), outcome="skipped",
               reason="rain")
    await step(alice, "retire_boundary", 0, ["boundary.retired"], boundary_id=boundary.id)

    # fmt: on
    stored = await checkin_events(nats_client, ns, "rel1")
    assert len({e["_msg_id"] for e in stored}) == len(stored)  # each event once
    assert all(e["id"] == e["_msg_id"] for e in stored)  # event id is the Nats-Msg-Id
    checkin_event = stored[0]
    assert checkin_event["actorid"] == "alice"
    assert checkin_event["visibility"] == "shared"
    assert checkin_event["correlationid"] == "test-alice"
