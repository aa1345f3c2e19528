"""Real servers for tests: private ones on free ports, ones that already run, or containers.

- default: a private nats-server (JetStream, temp storage) and SecantusDB on free ports;
- NATS_URL / MONGO_URL: use servers that already run;
- ATTUNE_TEST_BACKEND=containers: testcontainers' `nats` and `mongo` (replica set) images.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.processes import ManagedProcess, free_port
from deploy.servers import mongo_url, start_nats, start_secantus


@dataclass
class Servers:
    nats_url: str
    mongo_url: str


@dataclass
class PrivateNats:
    """A nats-server the test controls: it can be stopped, killed and restarted in place."""

    port: int
    data_dir: Path
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> PrivateNats:
        self.process = start_nats(self.port, self.data_dir, self.data_dir.parent / "nats.log")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@dataclass
class PrivateMongo:
    """A SecantusDB server the test controls: stop it, start it again on the same data."""

    port: int
    data_dir: Path
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return mongo_url(self.port)

    def start(self) -> PrivateMongo:
        self.process = start_secantus(self.port, self.data_dir, self.data_dir.parent / "mongo.log")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@contextmanager
def private_mongo(base: Path) -> Iterator[PrivateMongo]:
    server = PrivateMongo(port=free_port(), data_dir=base / "mongo-data").start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def private_nats(base: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(port=free_port(), data_dir=base / "nats-data").start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _containers() -> Iterator[Servers]:
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.nats import NatsContainer

    with (
        NatsContainer("nats:2.11").with_command("-js") as nats,
        MongoDbContainer("mongo:7").with_command("--replSet rs0 --bind_ip_all") as mongo,
    ):
        host, port = mongo.get_container_host_ip(), mongo.get_exposed_port(27017)
        from pymongo import MongoClient

        direct = f"mongodb://{mongo.username}:{mongo.password}@{host}:{port}/?directConnection=true"
        with MongoClient(direct) as client:
            client.admin.command(
                "replSetInitiate",
                {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]},
            )
        yield Servers(nats_url=nats.nats_uri(), mongo_url=direct)


@contextmanager
def test_servers() -> Iterator[Servers]:
    if os.environ.get("ATTUNE_TEST_BACKEND") == "containers":
        with _containers() as servers:
            yield servers
        return
    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attune-test-")))
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            nats_url = stack.enter_context(private_nats(base)).url
        url = os.environ.get("MONGO_URL")
        if not url:
            port = free_port()
            process = start_secantus(port, base / "mongo-data", base / "secantus.log")
            stack.callback(process.stop)
            url = mongo_url(port)
        yield Servers(nats_url=nats_url, mongo_url=url)
