"""A running checkin service and members of one relationship to act through it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.checkin.app import create_runtime
from services.checkin.settings import CheckinSettings
from shared.rpc import RpcClient
from shared.runtime import ServiceRuntime
from tests.support.checkin import Member
from tests.support.runtimes import running


@pytest.fixture
async def checkin(make_settings, nats_client, mongo) -> AsyncIterator[ServiceRuntime]:
    runtime = create_runtime(make_settings(CheckinSettings))
    async with running(runtime):
        yield runtime


@pytest.fixture
def rpc(checkin) -> RpcClient:
    return RpcClient(checkin.broker, checkin.settings.namespace, timeout=5)


@pytest.fixture
def alice(rpc) -> Member:
    return Member(rpc, "alice", "rel1", ["alice", "bo"])


@pytest.fixture
def bo(rpc) -> Member:
    return Member(rpc, "bo", "rel1", ["alice", "bo"])
