"""Pipeline on a three-node cluster: events per second from JetStream through insights to its
aggregates (bench/pipeline.py's measurement: consumer paused, events published, consumer
resumed and timed to its last ack), with every stream and consumer at three replicas,
against the same run on one nats-server. Prints cluster / one node last."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import Topology, check_replicas, on_both
from bench.pipeline import (
    NAMESPACE,
    RAW_BATCH,
    STREAM,
    aggregated_checkins,
    declare_streams,
    measure,
    publisher_settings,
)
from bench.report import conclude
from deploy.embedded import start_service, wait_ready
from deploy.processes import free_port
from shared.logging import configure_logging

EVENTS = 500  # fewer than bench/pipeline.py: the replicated run is the slow one


def run(topology: Topology, base: Path, events: int) -> tuple[float, float]:
    """(raw nats-py pull + ack in batches, insights) in events per second."""
    base.mkdir(parents=True, exist_ok=True)
    env = {"ATTUNE_NATS_URL": topology.urls, "ATTUNE_MONGO_URL": topology.db_url,
           "ATTUNE_NAMESPACE": NAMESPACE, "ATTUNE_ENVIRONMENT": "test",
           "ATTUNE_LOG_LEVEL": "WARNING"}  # fmt: skip
    asyncio.run(declare_streams(publisher_settings(topology.urls)))
    asyncio.run(check_replicas(topology, STREAM))
    port = free_port()
    process = start_service("insights", env, port, base / "insights.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", [process])
        raw, _single, ours = asyncio.run(measure(topology.url, process, events))
    finally:
        process.stop()
    aggregated = asyncio.run(aggregated_checkins(topology.db_url))
    assert aggregated == events, f"{topology.name}: insights aggregated {aggregated} of {events}"
    return raw, ours


def main() -> None:
    configure_logging("bench", "WARNING", json=False)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    events = parser.parse_args().events
    with tempfile.TemporaryDirectory() as tmp:
        (one_raw, one), (three_raw, three) = on_both(
            Path(tmp), NAMESPACE, lambda topology, base: run(topology, base, events)
        )
    print(f"{events} checkin.logged events, insights consuming them in batches")
    print(f"raw nats-py pull + ack (batches of {RAW_BATCH}): one node {one_raw:,.0f} events/s, "
          f"3-node cluster {three_raw:,.0f} events/s ({three_raw / one_raw:.2f})")  # fmt: skip
    print(f"insights: one node {one:,.0f} events/s, 3-node cluster {three:,.0f} events/s")
    conclude(
        f"{three:,.0f} events/s through insights (3-node cluster, R3)",
        f"{one:,.0f} events/s through insights (one nats-server, R1)",
        "cluster/one node",
        three / one,
    )


if __name__ == "__main__":
    main()
