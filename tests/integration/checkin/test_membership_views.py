"""Checkin trusts the gateway's view of the members when nothing newer is known, without
reading its read model; a view older than what it has seen is checked against the read model."""

from __future__ import annotations

from typing import Any

import pytest

from services.checkin.app import wire
from services.checkin.settings import CheckinSettings
from services.gateway.settings import GatewaySettings
from shared.membership import MEMBERSHIPS, members_of
from shared.messages import new_event
from shared.messages.gateway import MemberLeft
from shared.nats import publish_event
from shared.problems import NotFound
from shared.rpc import RpcClient
from shared.runtime import ServiceRuntime
from tests.support.checkin import Member
from tests.support.runtimes import running
from tests.support.waiting import eventually

TOUCH: dict[str, Any] = {"kind": "hug", "sexual": False}


async def reads_of_memberships(runtime: ServiceRuntime) -> int:
    """Operations on checkin's membership read model, from the database's own counters."""
    top = (await runtime.mongo.admin.command("top"))["totals"]
    counted = top.get(f"{runtime.settings.database_name}.{MEMBERSHIPS}", {})
    return int(counted.get("total", {}).get("count", 0))


async def test_a_current_view_needs_no_read_and_an_old_one_loses_to_a_newer_event(
    make_settings, nats_client, mongo
):
    gateway = ServiceRuntime(make_settings(GatewaySettings))
    checkin = ServiceRuntime(make_settings(CheckinSettings))
    handlers = wire(checkin)
    async with running(gateway, checkin):
        rpc = RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)
        alice = Member(rpc, "alice", "r1", ["alice", "bo"], version=1)
        bo = Member(rpc, "bo", "r1", ["alice", "bo"], version=1)

        await alice.cmd("log_touch", **TOUCH)  # first sight of r1: read once
        before = await reads_of_memberships(checkin)
        for member in (alice, bo, alice, bo, alice):
            await member.cmd("log_touch", **TOUCH)
        assert await reads_of_memberships(checkin) == before  # five commands, no read

        # Bo leaves; the gateway's event reaches checkin before a command Bo's app sent
        # while the gateway still counted him in.
        left = MemberLeft(member_id="bo", members=["alice"], membership_version=2)
        await publish_event(gateway.broker, gateway.settings.namespace,
                            new_event(left, relationship_id="r1", actor_id="bo"))  # fmt: skip

        async def projected() -> bool:
            return await members_of(checkin.db, "r1") == ["alice"]

        await eventually(projected)
        assert handlers.pipeline.memberships.current("r1", 2)
        with pytest.raises(NotFound):
            await bo.cmd("log_touch", **TOUCH)  # version 1 < 2: the read model decides
        await alice.cmd("log_touch", **TOUCH)  # still a member, by either view

        now = Member(rpc, "alice", "r1", ["alice"], version=2)
        before = await reads_of_memberships(checkin)
        await now.cmd("log_touch", **TOUCH)
        assert await reads_of_memberships(checkin) == before
