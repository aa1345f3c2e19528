"""What three replicas cost: a benchmark run once on one nats-server and once on a three-node
JetStream cluster (every stream at three replicas), the rest of the machine the same.

Both runs use the same SecantusDB kind, the same services and the same client; only NATS
differs. bench/cluster_ingest.py and bench/cluster_pipeline.py use this for their rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import nats

from deploy.nats_cluster import running_cluster
from deploy.processes import free_port
from deploy.servers import mongo_url, private_servers, start_secantus

T = TypeVar("T")


@dataclass
class Topology:
    """Where a run's NATS is: `urls` for the services, `url` for one client connection."""

    name: str
    replicas: int
    urls: str
    url: str
    db_url: str


@contextlib.contextmanager
def one_node(base: Path) -> Iterator[Topology]:
    with private_servers(base) as (nats_url, db_url):
        yield Topology("one node, R1", 1, nats_url, nats_url, db_url)


@contextlib.contextmanager
def three_nodes(base: Path, namespace: str) -> Iterator[Topology]:
    db_port = free_port()
    db = start_secantus(db_port, base / "mongo", base / "secantus.log")
    try:
        with running_cluster(base / "cluster", namespace, size=3, users=False) as cluster:
            yield Topology(
                "3-node cluster, R3", 3, cluster.urls, cluster.nodes[0].url, mongo_url(db_port)
            )
    finally:
        db.stop()


@contextlib.contextmanager
def replicas(count: int) -> Iterator[None]:
    """Streams declared meanwhile (by this process or the services it starts) get `count`."""
    before = os.environ.get("ATTUNE_STREAM_REPLICAS")
    os.environ["ATTUNE_STREAM_REPLICAS"] = str(count)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ATTUNE_STREAM_REPLICAS", None)
        else:
            os.environ["ATTUNE_STREAM_REPLICAS"] = before


async def check_replicas(topology: Topology, stream: str) -> None:
    """The run measured what it claims: `stream` really has the topology's replicas."""
    connection = await nats.connect(topology.url)
    try:
        info = await connection.jetstream().stream_info(stream)
    finally:
        await connection.close()
    found = info.config.num_replicas
    assert found == topology.replicas, f"{stream} has {found} replicas on {topology.name}"


def on_both(base: Path, namespace: str, run: Callable[[Topology, Path], T]) -> tuple[T, T]:
    """`run` on one node, then on the cluster (one after the other, never side by side)."""
    with replicas(1), one_node(base / "single") as topology:
        single = run(topology, base / "single")
    with replicas(3), three_nodes(base / "cluster", namespace) as topology:
        clustered = run(topology, base / "cluster")
    return single, clustered
