"""Insights through the real pipeline: checkin → JetStream → insights → flags and queries."""

from __future__ import annotations

from services.checkin.app import create_runtime as checkin_runtime
from services.checkin.settings import CheckinSettings
from services.insights.app import create_runtime as insights_runtime
from services.insights.settings import InsightsSettings
from shared.messages.views_rpc import Insights, InsightsQuery
from shared.rpc import RpcClient
from shared.subjects import relationship_events, stream_name
from tests.support.checkin import Member
from tests.support.runtimes import running
from tests.support.streams import read_subject
from tests.support.waiting import eventually


async def insight_types(nats_client, namespace: str, rid: str) -> list[str]:
    events = await read_subject(
        nats_client,
        stream_name(namespace, "insights"),
        relationship_events(namespace, "insights", rid),
    )
    return [f"{e['type']}:{e['data'].get('code', '')}" for e in events]


async def view_of(rpc: RpcClient, member: Member) -> Insights:
    return await rpc.call_named("qry", "insights", "insights", InsightsQuery(), Insights,
                          context=member.context())  # fmt: skip


async def test_bids_turned_away_is_raised_by_a_burst_and_cleared_by_turning_toward(
    make_settings, nats_client, mongo
):
    checkin = checkin_runtime(make_settings(CheckinSettings))
    insights = insights_runtime(make_settings(InsightsSettings))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        ana = Member(rpc, "ana", "rel1", ["ana", "ben"])
        ben = Member(rpc, "ben", "rel1", ["ana", "ben"])
        ns = checkin.settings.namespace

        async def answer(responses: list[str]) -> None:
            for response in responses:
                bid = await ana.cmd("make_bid", to_member_id="ben", kind="attention",
                                    channel="in_person")  # fmt: skip
                await ben.cmd("answer_bid", bid_id=bid.id, response=response)

        await answer(["away"] * 15 + ["toward"] * 5)

        async def raised() -> bool:
            return "insight.flag_raised:bids_turned_away" in await insight_types(
                nats_client, ns, "rel1"
            )

        await eventually(raised, timeout=30)

        async def all_counted() -> list:
            flags = (await view_of(rpc, ben)).flags
            return flags if flags and flags[0].evidence["answered"] == 20 else []

        flags = await eventually(all_counted, timeout=30)
        assert [f.code for f in flags] == ["bids_turned_away"]
        assert flags[0].evidence["toward"] == 5

        await answer(["toward"] * 6)  # the last twenty now hold 11 toward

        async def cleared() -> bool:
            return "insight.flag_cleared:bids_turned_away" in await insight_types(
                nats_client, ns, "rel1"
            )

        await eventually(cleared, timeout=30)
        assert (await view_of(rpc, ana)).flags == []
        types = await insight_types(nats_client, ns, "rel1")
        assert types.count("insight.flag_raised:bids_turned_away") == 1
        assert types.count("insight.flag_cleared:bids_turned_away") == 1


async def test_a_private_self_report_flag_reaches_its_author_only(
    make_settings, nats_client, mongo
):
    checkin = checkin_runtime(make_settings(CheckinSettings))
    insights = insights_runtime(make_settings(InsightsSettings))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        cleo = Member(rpc, "cleo", "rel2", ["cleo", "dan"])
        dan = Member(rpc, "dan", "rel2", ["cleo", "dan"])
        for _ in range(3):
            await cleo.cmd("log_checkin", mood=3, connection=5, signals={"held_back": True})

        async def cleo_sees() -> bool:
            return [f.code for f in (await view_of(rpc, cleo)).flags] == ["withholding"]

        await eventually(cleo_sees, timeout=30)
        assert (await view_of(rpc, dan)).flags == []
        ns = checkin.settings.namespace
        events = await read_subject(
            nats_client, stream_name(ns, "insights"), relationship_events(ns, "insights", "rel2")
        )
        raised = [e for e in events if e["type"] == "insight.flag_raised"]
        assert [(e["visibility"], e["actorid"]) for e in raised] == [("private", "cleo")]
