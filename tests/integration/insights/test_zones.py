"""Whose calendar relationship-wide days follow, from the gateway's own events: the earliest
member to join (the creator while a member), whatever the members' ids."""

from __future__ import annotations

from datetime import UTC, datetime

from services.gateway.settings import GatewaySettings
from services.insights import store
from services.insights.app import wire
from services.insights.settings import InsightsSettings
from shared.envelope import Visibility
from shared.messages import new_event
from shared.messages.base import EventData
from shared.messages.gateway import (
    MemberErased,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    RelationshipCreated,
)
from shared.nats import publish_event
from shared.runtime import ServiceRuntime
from tests.support.runtimes import running
from tests.support.waiting import eventually

ZONES = {"ana": "Europe/Berlin", "ben": "Asia/Tokyo", "cy": "America/Chicago"}


async def test_relationship_days_follow_the_earliest_member_to_join(make_settings, mongo):
    gateway = ServiceRuntime(make_settings(GatewaySettings))
    insights = ServiceRuntime(make_settings(InsightsSettings))
    handlers = wire(insights)
    ns = gateway.settings.namespace

    async def publish(data: EventData, rid: str | None = "rel7") -> None:
        event = new_event(data, relationship_id=rid, actor_id=None, visibility=Visibility.SHARED)
        await publish_event(gateway.broker, ns, event)

    async def zone_is(expected: str) -> bool:
        return (await store.load_zones(insights.db, "rel7")).relationship == expected

    async with running(gateway, insights):
        for member, zone in ZONES.items():
            await publish(MemberUpdated(member_id=member, timezone=zone), rid=None)
        # cy creates it; ben joins before ana (ana sorts first by id).
        await publish(RelationshipCreated(created_by="cy", members=["cy"], membership_version=1))
        await publish(MemberJoined(member_id="ben", members=["ben", "cy"], membership_version=2))
        await publish(MemberJoined(member_id="ana", members=["ana", "ben", "cy"],
                                   membership_version=3))  # fmt: skip
        await eventually(lambda: zone_is("America/Chicago"), timeout=20)

        # A batch reads many relationships' zones at once: the same answers, one by one.
        async def all_three_joined() -> bool:
            return len((await store.load_zones(insights.db, "rel7")).members) == 3

        await eventually(all_three_joined, timeout=20)
        together = await store.load_zones_of(insights.db, ["rel7", "unknown", "rel7"])
        assert together == {rid: await store.load_zones(insights.db, rid)
                            for rid in ("rel7", "unknown")}  # fmt: skip
        assert together["rel7"].members == ZONES

        await publish(MemberLeft(member_id="cy", members=["ana", "ben"], membership_version=4))
        await eventually(lambda: zone_is("Asia/Tokyo"), timeout=20)

        # ben's erasure takes his joining with it: ana is the earliest left.
        erased = MemberErased(erasure_id="e1", member_id="ben", relationship_ids=["rel7"],
                              erased_at=datetime.now(UTC))  # fmt: skip
        await insights.transact(lambda session: handlers.erase_member(session, erased))
        relationship = await insights.db.relationships.find_one({"_id": "rel7"})
        assert relationship["joined"] == {"ana": 3, "cy": 1}
        assert (await store.load_zones(insights.db, "rel7", ["ana"])).relationship == (
            "Europe/Berlin"
        )
