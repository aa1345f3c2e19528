"""One running system (four service processes) shared by the HTTP tests of a session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.system import System, running_system


@pytest.fixture(scope="session")
def system(servers, tmp_path_factory) -> Iterator[System]:
    namespace = f"e{uuid.uuid4().hex[:10]}"
    with running_system(
        servers.nats_url,
        servers.mongo_url,
        namespace,
        tmp_path_factory.mktemp("system-logs"),
        anonymous_rate_per_second="1000",
        anonymous_rate_burst="1000",
        rate_per_second="1000",
        rate_burst="1000",
        invalid_token_rate_per_second="1000",
        invalid_token_rate_burst="1000",
        account_rate_per_second="1000",
        account_rate_burst="1000",
        stream_heartbeat_seconds="1",
        webhook_allow_loopback_http="true",
        webhook_retry_seconds="[0.3, 0.3, 0.3]",
        webhook_disable_after="1",
        ops_token="ops-test-token",
    ) as running:
        yield running


@pytest.fixture
async def http(system) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.api, timeout=10) as client:
        yield client
