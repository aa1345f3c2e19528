"""Conflicts told by both members count once; the other member answers a one-sided flag;
recommendations are dismissed or done. Through real NATS and MongoDB."""

from __future__ import annotations

import pytest

from services.checkin.app import create_runtime as checkin_runtime
from services.checkin.settings import CheckinSettings
from services.insights import store
from services.insights.app import create_runtime as insights_runtime
from services.insights.settings import InsightsSettings
from shared.messages.views_rpc import (
    AnswerRecommendation,
    Done,
    Insights,
    InsightsQuery,
    RespondToFlag,
)
from shared.problems import Conflict, Forbidden, NotFound
from shared.rpc import RpcClient
from tests.support.checkin import Member
from tests.support.runtimes import running
from tests.support.waiting import eventually


async def view_of(rpc: RpcClient, member: Member) -> Insights:
    return await rpc.call_named("qry", "insights", "insights", InsightsQuery(), Insights,
                          context=member.context())  # fmt: skip


async def respond(rpc: RpcClient, member: Member, **payload) -> Done:
    return await rpc.call(RespondToFlag(**payload), context=member.context())


async def test_two_views_of_one_fight_count_once_and_the_other_member_answers_the_flag(
    make_settings, mongo
):
    checkin = checkin_runtime(make_settings(CheckinSettings))
    insights = insights_runtime(make_settings(InsightsSettings))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        ana = Member(rpc, "ana", "rel5", ["ana", "ben"])
        ben = Member(rpc, "ben", "rel5", ["ana", "ben"])
        fight = await ana.cmd("log_conflict", topic="money", intensity=3,
                              sarcasm_or_contempt=True, visibility="shared")  # fmt: skip
        with pytest.raises(Forbidden):  # the author's view is the conflict itself
            await ana.cmd("add_perspective", conflict_id=fight.id, intensity=3)
        seen = await ben.cmd("add_perspective", conflict_id=fight.id, intensity=4,
                             sarcasm_or_contempt=True)  # fmt: skip
        assert seen.fields["perspectives"]["ben"]["intensity"] == 4
        with pytest.raises(Conflict):  # once per member
            await ben.cmd("add_perspective", conflict_id=fight.id, intensity=2)

        async def both_reports() -> bool:
            return (
                await insights.db.conflict_reports.count_documents({"conflict_id": fight.id}) == 2
            )

        await eventually(both_reports, timeout=30)
        await eventually(lambda: has_health(rpc, ana), timeout=30)  # evaluated at least once
        assert [f.code for f in (await view_of(rpc, ana)).flags] == []

        await ana.cmd("log_conflict", topic="chores", intensity=2, sarcasm_or_contempt=True,
                      visibility="shared")  # fmt: skip

        async def contempt() -> list:
            return [f for f in (await view_of(rpc, ben)).flags if f.code == "contempt"]

        # The second conflict carries only Ana's word, the first both: both_members.
        [flag] = await eventually(contempt, timeout=30)
        assert flag.basis == "both_members" and flag.title and flag.summary
        assert flag.rule_version == 2 and flag.can_respond

        await respond(rpc, ben, code="contempt", answer="see_it_differently",
                      note="I was joking, but I hear it landed badly")  # fmt: skip
        with pytest.raises(Conflict):
            await respond(rpc, ben, code="contempt", answer="agree")
        with pytest.raises(NotFound):
            await respond(rpc, ben, code="stonewalling", answer="agree")
        for member in (ana, ben):
            [shown] = [f for f in (await view_of(rpc, member)).flags if f.code == "contempt"]
            assert [(r.member_id, r.answer, r.note) for r in shown.responses] == [
                ("ben", "see_it_differently", "I was joking, but I hear it landed badly")
            ]
        stored = await insights.db.flag_responses.find_one({"member_id": "ben"})
        assert "joking" not in str(stored["note"])  # sealed at rest


async def test_a_flag_from_one_members_reports_is_answered_by_the_other_only(make_settings, mongo):
    checkin = checkin_runtime(make_settings(CheckinSettings))
    insights = insights_runtime(make_settings(InsightsSettings))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        cy = Member(rpc, "cy", "rel6", ["cy", "di"])
        di = Member(rpc, "di", "rel6", ["cy", "di"])
        for topic in ("plans", "dishes"):
            await cy.cmd("log_conflict", topic=topic, intensity=2, sarcasm_or_contempt=True,
                         visibility="shared")  # fmt: skip

        async def contempt() -> list:
            return [f for f in (await view_of(rpc, di)).flags if f.code == "contempt"]

        [flag] = await eventually(contempt, timeout=30)
        assert flag.basis == "one_member" and flag.can_respond
        [own] = [f for f in (await view_of(rpc, cy)).flags if f.code == "contempt"]
        assert not own.can_respond
        with pytest.raises(Conflict):
            await respond(rpc, cy, code="contempt", answer="agree")
        await respond(rpc, di, code="contempt", answer="agree")


async def test_recommendations_dismissed_never_come_back_and_done_ones_count(make_settings, mongo):
    checkin = checkin_runtime(make_settings(CheckinSettings))
    insights = insights_runtime(make_settings(InsightsSettings))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        eve = Member(rpc, "eve", "rel7", ["eve", "fay"])
        fay = Member(rpc, "fay", "rel7", ["eve", "fay"])
        await eve.cmd("log_checkin", mood=4, connection=7, visibility="shared")

        async def offered() -> list:
            return (await view_of(rpc, eve)).recommendations

        recs = await eventually(offered, timeout=30)
        starter = next(r for r in recs if r.kind == "conversation_starter")
        ritual = next(r for r in recs if r.kind == "ritual_to_try")
        assert starter.text_key.startswith("insights.starter-")

        async def answer(member: Member, rec_id: str, how: str) -> Done:
            payload = AnswerRecommendation(recommendation_id=rec_id, answer=how)
            return await rpc.call_named("cmd", "insights", "answer_recommendation", payload, Done,
                                  context=member.context())  # fmt: skip

        await answer(eve, ritual.id, "dismissed")
        await answer(eve, starter.id, "done")
        await answer(eve, starter.id, "done")  # a retry changes nothing
        ids = {r.id for r in (await view_of(rpc, eve)).recommendations}
        assert ritual.id not in ids and starter.id not in ids
        assert starter.id in {r.id for r in (await view_of(rpc, fay)).recommendations}
        with pytest.raises(NotFound):
            await answer(fay, "no-such-thing", "dismissed")
        done = await store.load_days(insights.db, "rel7")
        assert sum(d.get("recommendations_done", 0) for d in done) == 1


async def has_health(rpc: RpcClient, member: Member) -> bool:
    return (await view_of(rpc, member)).health.as_of is not None
