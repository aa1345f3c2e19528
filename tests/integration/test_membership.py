"""The membership read model follows the gateway's events; newer versions win."""

from __future__ import annotations

from services.checkin.settings import CheckinSettings
from services.gateway.settings import GatewaySettings
from shared.membership import members_of
from shared.messages import new_event
from shared.messages.gateway import MemberJoined, MemberLeft, RelationshipCreated
from shared.nats import publish_event
from shared.runtime import ServiceRuntime
from tests.support.runtimes import running
from tests.support.waiting import eventually


async def test_membership_follows_events_and_an_old_event_cannot_roll_it_back(
    make_settings, nats_client, mongo
):
    gateway = ServiceRuntime(make_settings(GatewaySettings))
    checkin = ServiceRuntime(make_settings(CheckinSettings))
    checkin.keep_membership()
    ns = gateway.settings.namespace
    created = RelationshipCreated(created_by="a", members=["a"], membership_version=1)
    joined = MemberJoined(member_id="b", members=["a", "b"], membership_version=2)
    left = MemberLeft(member_id="b", members=["a"], membership_version=3)
    async with running(gateway, checkin):
        for data in (created, joined, left, joined):  # the last one arrives late
            await publish_event(
                gateway.broker, ns, new_event(data, relationship_id="r1", actor_id="a")
            )
        other = MemberJoined(member_id="c", members=["c", "d"], membership_version=5)
        await publish_event(
            gateway.broker, ns, new_event(other, relationship_id="r2", actor_id="c")
        )

        async def settled() -> bool:
            return await members_of(checkin.db, "r2") == ["c", "d"]

        await eventually(settled)
        assert await members_of(checkin.db, "r1") == ["a"]
