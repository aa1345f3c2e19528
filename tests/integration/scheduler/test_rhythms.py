"""Rhythms with content against real NATS and MongoDB, on a clock the test moves: a digital
date across zones and a one-zone DST change, the program's consent and length, the monthly
review's timing and privacy, nudges after quiet hours and paused during burnout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduler.handlers import SchedulerHandlers
from shared.messages.checkin import RitualCompleted, RitualCreated, RitualSkipped
from shared.messages.gateway import MemberUpdated, QuietHours, RelationshipCreated
from shared.messages.insights import FlagCleared, FlagRaised
from shared.messages.scheduler_rpc import DateRef, ProposeDate, ReviewRef, ReviewSettings
from shared.messages.views_rpc import ScheduleQuery
from shared.problems import Conflict
from shared.rpc import CallContext, Empty, Request
from shared.runtime import ServiceRuntime
from shared.zones import zone
from tests.support.runtimes import running
from tests.support.scheduler_world import World, scheduler_world, until_scheduled
from tests.support.waiting import eventually

# Sunday 25 Oct 2026: Berlin has left summer time, Los Angeles keeps it until 1 Nov.
T0 = datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
BERLIN, LA = "Europe/Berlin", "America/Los_Angeles"
B, L, RID = "m_berlin", "m_la", "rel_far"


@pytest.fixture
async def world(make_settings, nats_client, mongo) -> AsyncIterator[World]:
    async with scheduler_world(make_settings, T0) as built:
        yield built


def request(actor: str, payload: Any = None, members: tuple[str, ...] = (B, L)) -> Request:
    context = CallContext(actor_id=actor, relationship_id=RID, members=list(members),
                          membership_version=len(members))  # fmt: skip
    return Request(command_id=f"cmd-{datetime.now(UTC).timestamp()}", context=context,
                   payload=payload or {})  # fmt: skip


async def far_apart(world: World, runtime: ServiceRuntime) -> None:
    """Berlin and Los Angeles, each with quiet hours 22:00-07:00 local, in one relationship."""
    for member, tz in ((B, BERLIN), (L, LA)):
        updated = MemberUpdated(member_id=member, timezone=tz,
                                quiet_hours=QuietHours(start="22:00", end="07:00"))  # fmt: skip
        await world.publish("gateway", updated, None, private=True, actor=member)
    await eventually(lambda: runtime.db.member_settings.count_documents({}), timeout=20)

    async def both_known() -> bool:
        return await runtime.db.member_settings.count_documents({}) == 2

    await eventually(both_known, timeout=20)
    created = RelationshipCreated(created_by=B, members=[B, L], membership_version=2)
    await world.publish("gateway", created, RID, actor=B)
    await until_scheduled(runtime, f"review:{RID}")
    await eventually(lambda: runtime.db.memberships.count_documents({"_id": RID}), timeout=20)


async def fire_at(world: World, handlers: SchedulerHandlers, moment: datetime) -> None:
    world.clock.at = moment
    await handlers.fire_due()


async def published(world: World, nats_client, expected: int, event_type: str) -> list[dict]:
    async def found() -> list[dict] | None:
        events = [e for e in await world.scheduler_events(nats_client) if e["type"] == event_type]
        return events if len(events) >= expected else None

    return await eventually(found, timeout=20)


async def nudges(world: World, nats_client, kind: str) -> list[dict]:
    events = await world.scheduler_events(nats_client)
    return [e for e in events if e["type"] == "reminder.due" and e["data"]["kind"] == kind]


async def test_a_date_across_zones_shows_both_local_times_and_reminds_both_half_an_hour_before(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        # 19:00 in Berlin (CET since Sunday) is 11:00 in Los Angeles (still PDT): 8 hours apart.
        starts = datetime(2026, 10, 28, 19, 0, tzinfo=zone(BERLIN))
        proposal = ProposeDate(starts_at=starts, timezone=BERLIN, duration_minutes=60,
                               kind="video", plan="cook the same recipe")  # fmt: skip
        proposed = await handlers.propose_date(proposal, request(B))
        assert proposed.status == "proposed"
        accepted = await handlers.accept_date(DateRef(date_id=proposed.id), request(L))
        assert accepted.status == "accepted" and accepted.plan == "cook the same recipe"
        assert accepted.local_times[B].starts_at == "2026-10-28T19:00:00+01:00"
        assert accepted.local_times[L].starts_at == "2026-10-28T11:00:00-07:00"
        stored = await runtime.db.dates.find_one({"_id": proposed.id})
        assert "cook" not in str(stored)  # the plan is sealed at rest
        window = ScheduleQuery(start=T0, end=T0 + timedelta(days=14))
        schedule = await handlers.schedule(window, request(L))
        dated = [i for i in schedule.items if i.kind == "digital_date"]
        assert dated and dated[0].local_times == {
            B: "2026-10-28T19:00:00+01:00", L: "2026-10-28T11:00:00-07:00"
        }  # fmt: skip
        assert dated[0].local_time == "2026-10-28T11:00:00-07:00"  # the caller's own

        await fire_at(world, handlers, starts - timedelta(minutes=31))
        assert await nudges(world, nats_client, "digital_date") == []
        await fire_at(world, handlers, starts - timedelta(minutes=30))
        reminders = await published(world, nats_client, 2, "reminder.due")
        assert sorted(r["data"]["member_id"] for r in reminders) == [B, L]
        assert {r["data"]["due_at"] for r in reminders} == {"2026-10-28T17:30:00Z"}
        assert all(r["visibility"] == "private" and r["actorid"] == r["data"]["member_id"]
                   for r in reminders)  # fmt: skip
        await published(world, nats_client, 1, "date.reminded")
        await fire_at(world, handlers, starts + timedelta(minutes=60))
        await published(world, nats_client, 1, "date.happened")
        kinds = [e["type"] for e in await world.scheduler_events(nats_client)]
        assert kinds.count("date.proposed") == kinds.count("date.accepted") == 1


async def test_a_date_declined_after_it_stood_reminds_no_one_and_cannot_be_accepted_again(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        starts = datetime(2026, 10, 28, 19, 0, tzinfo=zone(BERLIN))
        proposal = ProposeDate(starts_at=starts, timezone=BERLIN, duration_minutes=60,
                               kind="call")  # fmt: skip
        proposed = await handlers.propose_date(proposal, request(B))
        ref = DateRef(date_id=proposed.id)
        assert (await handlers.accept_date(ref, request(L))).status == "accepted"
        await until_scheduled(runtime, f"date:{proposed.id}")  # its reminder waits
        # Leo changes his mind: one "no" calls the date off, even after it stood.
        declined = await handlers.decline_date(ref, request(L))
        assert declined.status == "declined"
        (event,) = await published(world, nats_client, 1, "date.declined")
        assert event["data"]["date_id"] == proposed.id and event["data"]["member_id"] == L
        window = ScheduleQuery(start=T0, end=T0 + timedelta(days=14))
        schedule = await handlers.schedule(window, request(B))
        assert [i for i in schedule.items if i.kind == "digital_date"] == []

        await fire_at(world, handlers, starts - timedelta(minutes=30))
        await fire_at(world, handlers, starts + timedelta(minutes=60))
        assert await runtime.db.schedules.find_one({"_id": f"date:{proposed.id}"}) is None
        kinds = [e["type"] for e in await world.scheduler_events(nats_client)]
        assert "date.reminded" not in kinds and "date.happened" not in kinds
        assert await nudges(world, nats_client, "digital_date") == []
        with pytest.raises(Conflict) as refused:
            await handlers.accept_date(ref, request(L))
        assert refused.value.status == 409 and refused.value.code == "date_declined"


async def test_the_program_waits_for_every_member_and_ends_after_six_months(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        proposed = await handlers.propose_program(Empty(), request(B))
        assert proposed.status == "proposed"
        await fire_at(world, handlers, T0 + timedelta(minutes=1))
        assert await runtime.db.schedules.count_documents({"kind": "program"}) == 0
        active = await handlers.accept_program(Empty(), request(L))
        assert active.status == "active" and active.stage == "name_the_breach"
        assert [p.text_key for p in active.prompts][:2] == ["trust.name.1", "trust.name.2"]
        assert all(len(p.text) > 40 for p in active.prompts)
        for week in (0, 1, 4, 12):
            await fire_at(world, handlers, T0 + timedelta(weeks=week, minutes=1))
        stages = await published(world, nats_client, 4, "program.stage_started")
        assert [s["data"]["stage"] for s in stages] == [
            "name_the_breach", "help_and_agreements", "weekly_checkins", "gradual_restoration"
        ]  # fmt: skip
        assert (await handlers.program_status(Empty(), request(B))).stage == "gradual_restoration"
        assert active.started_at == T0 + timedelta(minutes=1)
        six_months = datetime(2027, 4, 22, 12, 1, tzinfo=UTC)
        assert active.ends_at == six_months
        await fire_at(world, handlers, six_months - timedelta(minutes=1))
        assert (await handlers.program_status(Empty(), request(B))).status == "active"
        await fire_at(world, handlers, six_months)
        await published(world, nats_client, 1, "program.ended")
        ended = await handlers.program_status(Empty(), request(B))
        assert ended.status == "ended" and ended.prompts == []


async def test_the_review_fires_outside_everyones_quiet_hours_without_private_entries(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        occurrence = datetime(2026, 10, 23, 10, 0, tzinfo=UTC)
        kept = RitualCompleted(ritual_id="walk", occurrence=occurrence, member_id=B,
                               occurred_at=occurrence)  # fmt: skip
        skipped = RitualSkipped(ritual_id="walk", occurrence=occurrence, member_id=L,
                                occurred_at=occurrence)  # fmt: skip
        withheld = FlagRaised(code="withholding", rule_version=1, severity="warning",
                              member_id=L, evidence={"count": 3}, suggestion="talk",
                              raised_at=occurrence)  # fmt: skip
        shared_flag = FlagRaised(code="stonewalling", rule_version=1, severity="warning",
                                 evidence={"count": 3}, suggestion="pause",
                                 raised_at=occurrence)  # fmt: skip
        world.clock.at = T0 + timedelta(days=1)
        await world.publish("checkin", kept, RID, actor=B)
        await world.publish("checkin", skipped, RID, private=True, actor=L)
        await world.publish("insights", withheld, RID, private=True, actor=L)
        await world.publish("insights", shared_flag, RID)

        async def logged() -> bool:
            return await runtime.db.review_log.count_documents({}) >= 2

        await eventually(logged, timeout=20)
        # The review is due on the 22nd at 10:00 Berlin (01:00/02:00 in LA, inside its quiet hours).
        nominal = datetime(2026, 11, 22, 10, 0, tzinfo=zone(BERLIN))
        clear = datetime(2026, 11, 22, 7, 0, tzinfo=zone(LA))  # 16:00 Berlin
        # The schedule lists it where it will fire, in the caller's own time.
        around = ScheduleQuery(start=nominal - timedelta(days=1), end=nominal + timedelta(days=1))
        items = (await handlers.schedule(around, request(L))).items
        (listed,) = [item for item in items if item.kind == "review"]
        assert listed.starts_at == clear and listed.local_time == clear.isoformat()
        await fire_at(world, handlers, nominal)
        assert [e for e in await world.scheduler_events(nats_client)
                if e["type"] == "review.due"] == []  # fmt: skip
        await fire_at(world, handlers, clear - timedelta(minutes=1))
        await fire_at(world, handlers, clear)
        (due,) = await published(world, nats_client, 1, "review.due")
        assert datetime.fromisoformat(due["data"]["due_at"]) == clear
        assert due["data"]["review_id"] == listed.ref_id
        review = (await handlers.get_review(
            ReviewRef(review_id=due["data"]["review_id"]), request(B))).reviews[0]  # fmt: skip
        assert (review.rituals.kept, review.rituals.skipped) == (1, 0)  # L's private skip
        assert [f.code for f in review.flags_raised] == ["stonewalling"]
        assert "withholding" not in str(review) and "m_la" not in str(review)
        listed = (await handlers.list_reviews(Empty(), request(L))).reviews
        assert [r.id for r in listed] == [review.id]


async def test_a_ritual_nudge_due_inside_quiet_hours_is_delivered_at_their_end(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        # 06:00 in Berlin (quiet until 07:00) is 21:00 the evening before in LA (not yet quiet).
        ritual = RitualCreated(ritual_id="coffee", created_by=B, title="Coffee call",
                               rrule="FREQ=DAILY", timezone=BERLIN,
                               starts_at=datetime(2026, 11, 2, 6, 0),
                               duration_minutes=120)  # fmt: skip
        await world.publish("checkin", ritual, RID, actor=B)
        await until_scheduled(runtime, "ritual:coffee")
        start = datetime(2026, 11, 2, 6, 0, tzinfo=zone(BERLIN))
        await fire_at(world, handlers, start)
        await published(world, nats_client, 1, "ritual.due")
        (at_once,) = await nudges(world, nats_client, "ritual")
        assert at_once["data"]["member_id"] == L
        assert datetime.fromisoformat(at_once["data"]["delivered_at"]) == start
        seven = datetime(2026, 11, 2, 7, 0, tzinfo=zone(BERLIN))
        await fire_at(world, handlers, seven - timedelta(minutes=1))
        assert len(await nudges(world, nats_client, "ritual")) == 1
        await fire_at(world, handlers, seven)
        later = await published(world, nats_client, 2, "reminder.due")
        nudge = next(n for n in later if n["data"]["member_id"] == B)
        assert nudge["data"]["ref_id"] == "coffee" and nudge["data"]["kind"] == "ritual"
        assert datetime.fromisoformat(nudge["data"]["delivered_at"]) == seven
        assert datetime.fromisoformat(nudge["data"]["due_at"]) == start
        await fire_at(world, handlers, datetime(2026, 11, 2, 8, 1, tzinfo=zone(BERLIN)))
        assert len(await nudges(world, nats_client, "ritual")) == 2


async def test_during_burnout_no_ritual_nudge_or_program_prompt_goes_out_but_dates_remind(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        raised = FlagRaised(code="intimacy_burnout", rule_version=1, severity="warning",
                            evidence={}, suggestion="rest", raised_at=T0)  # fmt: skip
        await world.publish("insights", raised, RID)
        await eventually(lambda: runtime.db.backoff.count_documents({"_id": RID}), timeout=20)
        ritual = RitualCreated(ritual_id="walk", created_by=B, title="Walk", rrule="FREQ=DAILY",
                               timezone=BERLIN, starts_at=datetime(2026, 10, 23, 18, 0),
                               duration_minutes=60)  # fmt: skip
        await world.publish("checkin", ritual, RID, actor=B)
        await until_scheduled(runtime, "ritual:walk")
        await handlers.propose_program(Empty(), request(B))
        await handlers.accept_program(Empty(), request(L))
        starts = datetime(2026, 10, 23, 19, 30, tzinfo=zone(BERLIN))
        proposal = ProposeDate(starts_at=starts, timezone=BERLIN, duration_minutes=30,
                               kind="call")  # fmt: skip
        date = await handlers.propose_date(proposal, request(B))
        await handlers.accept_date(DateRef(date_id=date.id), request(L))
        for moment in (T0, datetime(2026, 10, 23, 18, 0, tzinfo=zone(BERLIN)),
                       starts - timedelta(minutes=30)):  # fmt: skip
            await fire_at(world, handlers, moment)
        await published(world, nats_client, 1, "program.stage_started")
        await published(world, nats_client, 1, "ritual.due")
        dated = await published(world, nats_client, 2, "reminder.due")
        assert {d["data"]["kind"] for d in dated} == {"digital_date"}
        assert await nudges(world, nats_client, "ritual") == []
        assert await nudges(world, nats_client, "program") == []


async def test_members_answering_at_once_lose_no_answer(world: World, nats_client):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    three = (B, L, "m_third")
    async with running(runtime):
        await far_apart(world, runtime)
        starts = datetime(2026, 10, 28, 19, 0, tzinfo=zone(BERLIN))
        proposal = ProposeDate(starts_at=starts, timezone=BERLIN, duration_minutes=60,
                               kind="play")  # fmt: skip
        date = await handlers.propose_date(proposal, request(B, members=three))
        ref = DateRef(date_id=date.id)
        ana, cy = request(L, members=three), request("m_third", members=three)
        await asyncio.gather(handlers.accept_date(ref, ana), handlers.accept_date(ref, cy))
        stored = await runtime.db.dates.find_one({"_id": date.id})
        assert stored["status"] == "accepted" and len(stored["answers"]) == 3
        await handlers.propose_program(Empty(), request(B, members=three))
        ana, cy = request(L, members=three), request("m_third", members=three)
        await asyncio.gather(handlers.accept_program(Empty(), ana),
                             handlers.accept_program(Empty(), cy))  # fmt: skip
        assert (
            await handlers.program_status(Empty(), request(B, members=three))
        ).status == "active"
        accepted = await published(world, nats_client, 2, "date.accepted")
        assert [a["data"]["confirmed"] for a in accepted].count(True) == 1


async def test_a_burnout_flag_raised_and_cleared_leaves_dates_program_and_reviews_alone(
    world: World, nats_client
):
    runtime, handlers = world.make_scheduler()  # type: ignore[operator]
    async with running(runtime):
        await far_apart(world, runtime)
        starts = datetime(2026, 10, 30, 19, 0, tzinfo=zone(BERLIN))
        proposal = ProposeDate(starts_at=starts, timezone=BERLIN, duration_minutes=45,
                               kind="video", plan="our sealed plan")  # fmt: skip
        date = await handlers.propose_date(proposal, request(B))
        await handlers.accept_date(DateRef(date_id=date.id), request(L))
        await handlers.propose_program(Empty(), request(B))
        settings = ReviewSettings(day_of_month=3, time="18:30", timezone=BERLIN)
        await handlers.update_review_settings(settings, request(B))

        raised = FlagRaised(code="intimacy_burnout", rule_version=1, severity="warning",
                            evidence={}, suggestion="rest", raised_at=T0)  # fmt: skip
        await world.publish("insights", raised, RID)
        await eventually(lambda: runtime.db.backoff.count_documents({"_id": RID}), timeout=20)
        cleared = FlagCleared(code="intimacy_burnout", rule_version=1, raised_at=T0,
                              cleared_at=T0)  # fmt: skip
        await world.publish("insights", cleared, RID)

        async def backed_off_no_more() -> bool:
            return await runtime.db.backoff.count_documents({"_id": RID}) == 0

        await eventually(backed_off_no_more, timeout=20)
        (kept,) = (await handlers.list_dates(Empty(), request(L))).dates
        assert kept.id == date.id and kept.plan == "our sealed plan"  # its key survived too
        assert (await handlers.program_status(Empty(), request(B))).status == "proposed"
        assert await runtime.db.review_settings.count_documents({"_id": RID}) == 1
