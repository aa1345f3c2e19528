"""An erased member's share of a relationship's figures goes with them: every aggregate their
shared entries fed (a partner could take their own share away from a sum and read theirs),
every counter or flag that names them; the partner's own records stay."""

from __future__ import annotations

from datetime import UTC, datetime

from services.checkin.app import create_runtime as checkin_runtime
from services.checkin.settings import CheckinSettings
from services.insights import store
from services.insights.app import create_runtime as insights_runtime
from services.insights.settings import InsightsSettings
from shared.messages.base import new_event, subject_of
from shared.messages.gateway import MemberErased
from shared.messages.views_rpc import Insights, InsightsQuery
from shared.nats import MSG_ID_HEADER, declare_stream, event_stream_config
from shared.rpc import RpcClient
from tests.support.checkin import Member
from tests.support.runtimes import running
from tests.support.waiting import eventually

GONE, STAYS, RID = "cyerased01", "dipartner01", "rel-erase"


async def flags_of(rpc: RpcClient, member: Member) -> list[str]:
    found = await rpc.call_named("qry", "insights", "insights", InsightsQuery(), Insights,
                                 context=member.context())  # fmt: skip
    return [f.code for f in found.flags]


async def test_erasure_takes_the_members_share_of_every_figure_and_keeps_the_partners_own(
    make_settings, mongo, nats_client
):
    settings = make_settings(InsightsSettings, tick_seconds=1)
    checkin, insights = checkin_runtime(make_settings(CheckinSettings)), insights_runtime(settings)
    await declare_stream(nats_client, event_stream_config(settings, "gateway"))
    async with running(checkin, insights):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        cy, di = (Member(rpc, m, RID, [GONE, STAYS]) for m in (GONE, STAYS))
        for topic in ("plans", "dishes"):  # contempt, on Cy's word only (reporters: Cy)
            await cy.cmd("log_conflict", topic=topic, intensity=2, sarcasm_or_contempt=True,
                         visibility="shared")  # fmt: skip
        await cy.cmd("log_touch", kind="hug", sexual=False, with_member_id=STAYS,
                     visibility="shared")  # fmt: skip
        bid = await cy.cmd("make_bid", to_member_id=STAYS, kind="help", channel="call")
        await di.cmd("answer_bid", bid_id=bid.id, response="toward")
        await di.cmd("log_checkin", mood=4, connection=7, visibility="shared")
        db = insights.db

        async def counted() -> bool:
            days = await store.load_days(db, RID)
            pair = any(k.startswith("touch_pair__") for d in days for k in d)
            answered = await db.bids.count_documents({"answered_at": {"$exists": True}})
            return pair and answered == 1 and "contempt" in await flags_of(rpc, di)

        await eventually(counted, timeout=30)

        erased = MemberErased(erasure_id="e1", member_id=GONE, relationship_ids=[RID],
                              erased_at=datetime.now(UTC))  # fmt: skip
        envelope = new_event(erased, relationship_id=None, actor_id=GONE)
        await nats_client.jetstream().publish(
            subject_of(settings.namespace, envelope), envelope.to_json(),
            headers={MSG_ID_HEADER: envelope.id},
        )  # fmt: skip

        async def buried() -> bool:
            return await db.tombstones.count_documents({"_id": f"member:{GONE}"}) == 1

        await eventually(buried, timeout=30)
        naming = []  # outside erasure bookkeeping: the tombstone and the confirmation
        for name in await db.list_collection_names():
            naming += [f"{name}: {d}" async for d in db[name].find({})
                       if GONE in str(d) and name != "tombstones"
                       and "erasure_confirmed" not in str(d.get("subject"))]  # fmt: skip
        assert naming == []
        assert await store.load_days(db, RID) == []  # the relationship's days
        for name in ("bids", "occurrences"):
            assert await db[name].count_documents({"relationship_id": RID}) == 0, name
        relationship = await db.relationships.find_one({"_id": RID})
        assert relationship is not None
        assert not {"answers", "first_day", "last_event_at"} & set(relationship)
        assert len(await store.load_days(db, RID, member_id=STAYS)) == 1  # Di's own

        async def cleared() -> bool:  # the evaluation asked for clears it in the open
            return "contempt" not in await flags_of(rpc, di)

        await eventually(cleared, timeout=30)
