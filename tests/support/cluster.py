"""Looking at a JetStream cluster from a test: who leads a stream, and are its replicas current."""

from __future__ import annotations

from typing import Any

import nats

from deploy.nats_cluster import NatsCluster
from shared.subjects import inbox_prefix

OBSERVER = "checkin"  # a service user may read any stream's info; tests look through it


async def stream_info(cluster: NatsCluster, stream: str) -> Any:
    connection = await nats.connect(
        cluster.user_url(OBSERVER),
        allow_reconnect=False,
        inbox_prefix=inbox_prefix(cluster.namespace, OBSERVER),  # its replies arrive only there
    )
    try:
        # Short: while a stream elects a leader, its info request goes unanswered.
        return await connection.jetstream(timeout=1).stream_info(stream)
    finally:
        await connection.close()


async def stream_leader(cluster: NatsCluster, stream: str) -> str | None:
    """The name of the node leading `stream`, None while it has no leader."""
    try:
        info = await stream_info(cluster, stream)
    except Exception:  # no leader: the request times out or JetStream answers 503
        return None
    return info.cluster.leader if info.cluster else None


async def replicas_current(cluster: NatsCluster, stream: str) -> bool:
    """A leader and every other replica caught up with it (all nodes back in the group)."""
    try:
        info = await stream_info(cluster, stream)
    except Exception:
        return False
    group = info.cluster
    if group is None or not group.leader:
        return False
    others = group.replicas or []
    return len(others) == len(cluster.nodes) - 1 and all(r.current for r in others)
