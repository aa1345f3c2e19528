"""Shared fixtures: real servers for the session, an isolated namespace for each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
from nats.aio.client import Client
from pymongo import AsyncMongoClient

from shared.settings import BaseServiceSettings
from tests.support.servers import (
    PrivateMongo,
    PrivateNats,
    Servers,
    private_mongo,
    private_nats,
    test_servers,
)

S = TypeVar("S", bound=BaseServiceSettings)
FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Counts a test wants in the run's output (printed after the results, even without -s)."""
    collected = request.config.stash.setdefault(FIGURES, [])
    return collected.append


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for text in config.stash.get(FIGURES, []):
        terminalreporter.write_line(text)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with test_servers() as running:
        yield running


@pytest.fixture
def namespace() -> str:
    """Every test gets its own subjects, streams and databases."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_settings(servers: Servers, namespace: str) -> Callable[..., Any]:
    def build(cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "environment": "test",
            "namespace": namespace,
            "nats_url": servers.nats_url,
            "mongo_url": servers.mongo_url,
            "log_json": True,
            "outbox_poll_seconds": 0.1,
            "outbox_lease_seconds": 2,
            "max_deliver": 5,
            "ack_wait_seconds": 5,
            "shutdown_grace_seconds": 3,
            **overrides,
        }
        return cls(**values)

    return build


@pytest.fixture
async def nats_client(servers: Servers, namespace: str) -> AsyncIterator[Client]:
    """A plain nats-py connection to look at what really is on the server."""
    client = await nats.connect(servers.nats_url)
    yield client
    js = client.jetstream()
    for info in await js.streams_info():
        if info.config.name and info.config.name.lower().startswith(namespace):
            await js.delete_stream(info.config.name)
    await client.close()


@pytest.fixture
async def mongo(servers: Servers, namespace: str) -> AsyncIterator[AsyncMongoClient[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(servers.mongo_url, tz_aware=True)
    yield client
    for name in await client.list_database_names():
        if name.startswith(namespace):
            await client.drop_database(name)
    await client.close()


@pytest.fixture
def restartable_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    """A private nats-server this test may stop and restart (fault injection)."""
    with private_nats(tmp_path) as server:
        yield server


@pytest.fixture
def restartable_mongo(tmp_path: Path) -> Iterator[PrivateMongo]:
    """A private SecantusDB this test may stop and restart (fault injection)."""
    with private_mongo(tmp_path) as server:
        yield server
