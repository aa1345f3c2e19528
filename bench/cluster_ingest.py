"""Ingest on a three-node cluster: check-ins per second and latency through gateway -> checkin
-> MongoDB -> outbox -> JetStream (bench/ingest.py's client and load), with every stream at
three replicas, against the same run on one nats-server. Prints cluster / one node last."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import Topology, check_replicas, on_both
from bench.ingest import CONCURRENCY, REQUESTS, ours
from bench.report import conclude, spread
from bench.system import attune
from shared.subjects import stream_name


def run(topology: Topology, base: Path) -> tuple[float, list[float]]:
    base.mkdir(parents=True, exist_ok=True)
    with attune(base, topology.urls, topology.db_url) as running:
        result = asyncio.run(ours(running.api))
        asyncio.run(check_replicas(topology, stream_name("attune", "checkin")))
        return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (one_rate, one_lat), (three_rate, three_lat) = on_both(Path(tmp), "attune", run)
    print(f"concurrency {CONCURRENCY}, {REQUESTS} check-ins each")
    print(f"one nats-server, R1: {one_rate:,.0f} check-ins/s, {spread(one_lat)}")
    print(f"3-node cluster, R3: {three_rate:,.0f} check-ins/s, {spread(three_lat)}")
    conclude(
        f"{three_rate:,.0f} check-ins/s, {spread(three_lat)} (3-node cluster, R3)",
        f"{one_rate:,.0f} check-ins/s, {spread(one_lat)} (one nats-server, R1)",
        "cluster/one node",
        three_rate / one_rate,
    )


if __name__ == "__main__":
    main()
