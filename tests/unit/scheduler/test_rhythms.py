"""Rhythms with content, as pure rules: nudges outside quiet hours, dates across zones, the
program's words and length, when the monthly review may fire and what it tells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler import dates, domain, program, reviews
from shared.messages.scheduler_rpc import ReviewOut
from shared.zones import zone

BERLIN, LA = "Europe/Berlin", "America/Los_Angeles"
NIGHT = ("22:00", "07:00")


def local(moment: datetime, tz: str) -> str:
    return moment.astimezone(zone(tz)).strftime("%m-%d %H:%M")


def test_a_nudge_inside_quiet_hours_moves_to_their_end_and_one_outside_stays():
    late = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert local(domain.after_quiet_hours(late, BERLIN, NIGHT), BERLIN) == "11-21 07:00"
    early = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert local(domain.after_quiet_hours(early, BERLIN, NIGHT), BERLIN) == "11-20 07:00"
    noon = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert domain.after_quiet_hours(noon, BERLIN, NIGHT) == noon
    assert domain.after_quiet_hours(late, BERLIN, None) == late


def test_burnout_pauses_ritual_program_and_review_nudges_but_never_dates():
    for kind in (domain.NudgeKind.RITUAL, domain.NudgeKind.PROGRAM, domain.NudgeKind.REVIEW):
        assert domain.nudge_paused(kind, burnout=True)
        assert not domain.nudge_paused(kind, burnout=False)
    assert not domain.nudge_paused(domain.NudgeKind.DATE, burnout=True)


def test_every_program_stage_has_at_least_three_prompts_in_words_with_unique_keys():
    keys = [p.text_key for stage in program.STAGES for p in stage.prompts]
    assert len(program.STAGES) == 4
    assert all(len(stage.prompts) >= 3 for stage in program.STAGES)
    assert len(keys) == len(set(keys))
    assert all(len(p.text) > 40 for stage in program.STAGES for p in stage.prompts)


def test_the_program_needs_every_member_and_ends_after_six_months():
    started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    members = frozenset({"a", "b", "c"})
    assert program.status({"a", "b"}, members, None, started) == "proposed"
    assert program.status({"a", "b", "c"}, members, None, started) == "active"
    assert program.ends_at(started) == datetime(2026, 9, 2, 9, 0, tzinfo=UTC)
    almost = datetime(2026, 9, 2, 8, 59, tzinfo=UTC)
    assert program.status(set(members), members, started, almost) == "active"
    assert program.status(set(members), members, started, program.ends_at(started)) == "ended"
    assert program.stage_index(started, started + timedelta(days=6)) == 0
    assert program.stage_index(started, started + timedelta(days=7)) == 1
    assert program.stage_index(started, started + timedelta(weeks=13)) == 3


def test_a_date_stands_once_everyone_accepted_and_one_no_calls_it_off():
    members = frozenset({"a", "b", "c"})
    assert dates.status({"a": "accepted", "b": "accepted"}, members) == "proposed"
    assert dates.status({m: "accepted" for m in members}, members) == "accepted"
    assert dates.status({"a": "accepted", "b": "declined"}, members) == "declined"


def overlaps_quiet_hours(member: dates.MemberDay, slot: dates.Slot) -> bool:
    """Whether any quarter hour of the slot lies in the member's quiet hours, on their clock."""
    assert member.quiet is not None
    begin, end = (int(h) * 60 + int(m) for h, m in (c.split(":") for c in member.quiet))
    moment = slot.starts_at
    while moment < slot.ends_at:
        clock = moment.astimezone(zone(member.timezone))
        minute = clock.hour * 60 + clock.minute
        if (begin <= minute < end) if begin < end else (minute >= begin or minute < end):
            return True
        moment += timedelta(minutes=15)
    return False


def test_suggested_slots_fall_in_every_members_waking_day_and_never_in_quiet_hours():
    # Both members' quiet hours cut into the few hours they are awake together: Berlin goes
    # quiet at 21:30 (12:00-13:00 in LA most of the year) and LA keeps 10:00-11:00 free.
    berlin = dates.MemberDay("b", BERLIN, ("21:30", "07:00"))
    la = dates.MemberDay("l", LA, ("10:00", "11:00"))
    start = datetime(2026, 10, 20, tzinfo=UTC)  # Berlin changes clocks on 25 Oct, LA on 1 Nov
    slots = dates.suggest([berlin, la], start, start + timedelta(days=14), timedelta(minutes=60),
                          limit=1000)  # fmt: skip
    assert slots
    for slot in slots:
        for member in (berlin, la):
            begins = slot.starts_at.astimezone(zone(member.timezone))
            ends = slot.ends_at.astimezone(zone(member.timezone))
            assert begins.hour >= 8 and (ends.hour, ends.minute) <= (22, 0), (member, slot)
            assert begins.date() == ends.date()
            assert not overlaps_quiet_hours(member, slot), (member, slot)
    # Without quiet hours the same fortnight offers 140 slots, LA's 09:30-10:30 among them.
    assert len(slots) == 84
    spreads = [slot.spread for slot in slots]
    assert spreads == sorted(spreads)  # the most evenly shared first
    # Berlin's evening is LA's morning, 9 hours apart; in the week only Berlin has left summer
    # time (25 Oct - 1 Nov) they are 8 apart, and a 12:00 start in LA ends at 21:00 in Berlin,
    # before its quiet hours.
    noon = {s.starts_at.date().isoformat() for s in slots if local(s.starts_at, LA)[6:8] == "12"}
    assert noon and all("2026-10-25" <= day < "2026-11-01" for day in noon)


def test_a_quiet_hour_inside_the_waking_day_is_avoided_too():
    napper = dates.MemberDay("n", BERLIN, ("13:00", "15:00"))
    start = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    slots = dates.suggest([napper], start, start + timedelta(hours=14), timedelta(minutes=60),
                          limit=100)  # fmt: skip
    for slot in slots:
        begins = slot.starts_at.astimezone(zone(BERLIN))
        ends = slot.ends_at.astimezone(zone(BERLIN))
        assert ends.hour * 60 + ends.minute <= 13 * 60 or begins.hour >= 15


def test_the_review_moves_out_of_every_members_quiet_hours():
    nominal = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 10:00 Berlin, 01:00 in LA
    due = reviews.clear_of_everyone(nominal, [(BERLIN, ("22:00", "07:00")),
                                              (LA, ("22:00", "07:00"))])  # fmt: skip
    assert local(due, LA) == "11-20 07:00" and local(due, BERLIN) == "11-20 16:00"
    assert reviews.clear_of_everyone(nominal, [(BERLIN, None)]) == nominal


def test_a_review_tells_the_month_from_shared_happenings_only():
    at = datetime(2026, 11, 10, tzinfo=UTC)
    before = {"kind": "health", "at": at, "values": {"emotional": 50.0, "physical": 40.0}}
    walks = [at - timedelta(days=days) for days in (1, 2, 3)]

    def walk(occurrence: datetime, member: str, outcome: str) -> dict:
        # Each member's answer is its own entry (event); the log keeps no member id.
        return {"kind": "ritual_outcome", "_id": f"{member}-{occurrence:%d}", "ref": "r",
                "occurrence": occurrence, "outcome": outcome, "at": at}  # fmt: skip

    entries = [
        {"kind": "health", "at": at, "values": {"emotional": 60.0, "physical": 35.0}},
        {"kind": "flag_raised", "code": "stonewalling", "at": at},
        {"kind": "flag_cleared", "code": "affection_drop", "at": at},
        # One walk both kept, one both skipped, one a member skipped and the other two kept.
        walk(walks[0], "a", "completed"),
        walk(walks[0], "b", "completed"),
        walk(walks[1], "a", "skipped"),
        walk(walks[1], "b", "skipped"),
        walk(walks[2], "a", "skipped"),
        walk(walks[2], "b", "completed"),
        walk(walks[2], "c", "completed"),
        {"kind": "boundary_agreed", "ref": "b", "boundary_kind": "tech", "at": at},
        {"kind": "date_happened", "ref": "d", "date_kind": "video", "at": at},
    ]
    month = reviews.content(before, entries)
    assert month["health"]["start"]["emotional"] == 50.0
    assert month["health"]["end"]["emotional"] == 60.0
    assert [f["code"] for f in month["flags_raised"]] == ["stonewalling"]
    assert [f["code"] for f in month["flags_cleared"]] == ["affection_drop"]
    assert month["rituals"] == {"kept": 2, "skipped": 1}
    assert month["boundaries_agreed"] == [{"boundary_id": "b", "kind": "tech"}]
    assert [d["date_id"] for d in month["dates_had"]] == ["d"]
    assert month["strengths"][:3] == [
        "You kept your rituals together 2 times this month.",
        "You made time for 1 digital date.",
        "You agreed on 1 boundary together.",
    ]
    # What GET .../reviews/{id} answers is exactly this content, typed.
    typed = ReviewOut.model_validate({"id": "m", "period_start": at, "period_end": at, **month})
    assert typed.model_dump(exclude={"id", "period_start", "period_end"}) == month
    once = reviews.content(None, [walk(walks[0], "a", "completed")])
    assert once["strengths"] == ["You kept your rituals together once this month."]


@pytest.mark.parametrize(
    "quiet", [("22:00", "07:00"), ("13:00", "15:00"), None, ("06:00", "23:30")]
)
def test_suggestions_are_exactly_the_slots_that_fit_everyone(quiet):
    # The fast path (free time worked out per day) agrees with asking `fits` slot by slot.
    members = [dates.MemberDay("b", BERLIN, quiet), dates.MemberDay("l", LA, ("21:00", "06:30"))]
    start = datetime(2026, 10, 20, tzinfo=UTC)
    end, hour = start + timedelta(days=14), timedelta(minutes=60)
    fast = sorted(s.starts_at for s in dates.suggest(members, start, end, hour, limit=10**6))
    slow, cursor = [], start
    while cursor + hour <= end:
        if all(dates.fits(m, cursor, cursor + hour) for m in members):
            slow.append(cursor)
        cursor += dates.STEP
    assert fast == slow
