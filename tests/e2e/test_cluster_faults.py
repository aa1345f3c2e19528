"""The scale-out path: Attune on a three-node JetStream cluster, every stream at three replicas,
loses nodes under the fault suite's load and loses nothing.

Members keep writing (tests/support/load.py) while the node leading the checkin stream is
SIGKILLed and restarted, then the node leading the gateway stream, then two nodes are stopped
at once (the streams lose their quorum) and started again. Afterwards every write a member saw
accepted is stored once, on the stream once, counted once by insights and delivered once to a
webhook receiver; every refusal on the way was clean; no service restarted; every durable
consumer is bound and drained again without anyone touching it. The table, the seconds each
leader change took and the slowest write and publish per fault are printed after the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from deploy.nats_cluster import ClusterNode, NatsCluster, running_cluster
from shared.subjects import SERVICES, inbox_prefix, stream_name
from tests.e2e.test_fault_injection import (
    AFTER,
    BEFORE,
    RELATIONSHIPS,
    Seen,
    check_everyone_is_up,
    look,
    row,
    settled,
    table,
)
from tests.support.api import couple
from tests.support.cluster import OBSERVER, replicas_current, stream_leader
from tests.support.load import Load, Write
from tests.support.receiver import Receiver
from tests.support.servers import PrivateMongo
from tests.support.streams import read_subject
from tests.support.system import System, running_system
from tests.support.waiting import eventually

NODES_DOWN = 4.0  # seconds a killed node, or the two stopped at once, stay away
# Consumers on three replicas trail the load on a busy two-core machine (each ack is agreed
# by the consumer's replicas); the backlog they drain afterwards is counted, not timed.
SETTLE = 240.0
CHECKIN_LEADER, GATEWAY_LEADER, QUORUM = "checkin leader", "gateway leader", "no quorum"


@pytest.fixture
def cluster_namespace() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


@pytest.fixture
def nats_cluster(tmp_path: Path, cluster_namespace: str) -> Iterator[NatsCluster]:
    with running_cluster(tmp_path / "cluster", cluster_namespace, size=3) as cluster:
        yield cluster


async def leader_of(cluster: NatsCluster, owner: str, namespace: str) -> ClusterNode:
    name = await eventually(lambda: stream_leader(cluster, stream_name(namespace, owner)))
    return cluster.node(name)


async def all_streams_whole(cluster: NatsCluster, namespace: str) -> None:
    """Every node healthy again and every stream's replicas caught up with their leader."""
    await asyncio.to_thread(cluster.wait_healthy, 90)
    for owner in SERVICES:
        whole = partial(replicas_current, cluster, stream_name(namespace, owner))
        await eventually(whole, timeout=60, interval=0.5)


async def kill_leader(
    cluster: NatsCluster, namespace: str, owner: str, elections: dict[str, float]
) -> None:
    """SIGKILL the node leading `owner`'s stream; time until another node leads it; restart."""
    node = await leader_of(cluster, owner, namespace)
    killed = time.monotonic()
    await asyncio.to_thread(node.kill)

    async def new_leader() -> bool:
        leader = await stream_leader(cluster, stream_name(namespace, owner))
        return leader is not None and leader != node.name

    await eventually(new_leader, timeout=60, interval=0.1)
    elections[owner] = time.monotonic() - killed
    await asyncio.sleep(max(0.0, NODES_DOWN - (time.monotonic() - killed)))
    await asyncio.to_thread(node.start)
    await all_streams_whole(cluster, namespace)


async def lose_quorum(cluster: NatsCluster, namespace: str, window: list[float]) -> None:
    """Stop two of the three nodes at once (the checkin stream's leader among them), keep them
    away, start them again; `window` gets when the quorum went and came back (wall clock)."""
    leader = await leader_of(cluster, "checkin", namespace)
    pair = [leader, next(n for n in cluster.nodes if n is not leader)]
    window.append(time.time())
    await asyncio.gather(*(asyncio.to_thread(node.stop) for node in pair))
    await asyncio.sleep(NODES_DOWN)
    await asyncio.gather(*(asyncio.to_thread(node.start) for node in pair))
    window.append(time.time())
    await all_streams_whole(cluster, namespace)


async def published_at(cluster: NatsCluster, namespace: str) -> dict[str, float]:
    """Each check-in's first arrival on the checkin stream (JetStream's own timestamp)."""
    connection = await nats.connect(
        cluster.user_url(OBSERVER), inbox_prefix=inbox_prefix(cluster.namespace, OBSERVER)
    )
    try:
        events = await read_subject(
            connection,
            stream_name(namespace, "checkin"),
            f"{namespace}.checkin.evt.*.checkin.logged",
        )
    finally:
        await connection.close()
    first: dict[str, float] = {}
    for event in events:
        first.setdefault(event["data"]["checkin_id"], event["_stored_at"].timestamp())
    return first


def slowest_publish(writes: list[Write], stored_at: dict[str, float]) -> float:
    """Longest wait of an accepted write for JetStream to take its event (the write stall
    a stream without a leader causes: the outbox holds the event until it has one)."""
    waits = [stored_at[w.entry_id] - w.accepted_at for w in writes if w.entry_id in stored_at]
    return round(max(waits, default=0.0), 1)


async def consumers_drained(cluster: NatsCluster, namespace: str) -> list[str]:
    """Durable consumers that are not bound to a leader or still hold work (empty when all
    came back by themselves)."""
    # Listing consumers is the gateway's right alone (the ops figures): look as the gateway.
    connection = await nats.connect(
        cluster.user_url("gateway"), inbox_prefix=inbox_prefix(cluster.namespace, "gateway")
    )
    trouble: list[str] = []
    try:
        js = connection.jetstream()
        for owner in SERVICES:
            stream = stream_name(namespace, owner)
            for info in await js.consumers_info(stream):
                if not info.config.durable_name:
                    continue  # a test's own reader (look), not a service's consumer
                group = info.cluster
                if group is None or not group.leader:
                    trouble.append(f"{stream}/{info.name}: no leader")
                elif info.num_pending or info.num_ack_pending:
                    trouble.append(
                        f"{stream}/{info.name}: {info.num_pending} pending, "
                        f"{info.num_ack_pending} unacknowledged"
                    )
    finally:
        await connection.close()
    return trouble


@pytest.mark.slow
@pytest.mark.timeout(480)
async def test_a_three_node_cluster_loses_nodes_under_load_and_nothing_accepted_is_lost_or_doubled(
    nats_cluster: NatsCluster,
    cluster_namespace: str,
    restartable_mongo: PrivateMongo,
    tmp_path: Path,
    figures: Any,
) -> None:
    cluster, namespace = nats_cluster, cluster_namespace
    receiver = Receiver().start()
    users = {s: {"ATTUNE_NATS_USER": s, "ATTUNE_NATS_PASSWORD": cluster.passwords[s]}
             for s in SERVICES}  # fmt: skip
    with running_system(
        cluster.urls, restartable_mongo.url, namespace, tmp_path / "logs", service_env=users,
        stream_replicas="3",
        rate_per_second="10000", rate_burst="10000",
        anonymous_rate_per_second="1000", anonymous_rate_burst="1000",
        webhook_allow_loopback_http="true", webhook_retry_seconds="[0.5, 1, 2, 4, 8, 15]",
        idempotency_abandoned_seconds="3", mongo_timeout_seconds="3", webhook_timeout_seconds="3",
    ) as system:  # fmt: skip
        for owner in SERVICES:  # the services declared every stream at three replicas
            await eventually(partial(replicas_current, cluster, stream_name(namespace, owner)))
        async with httpx.AsyncClient(base_url=system.api, timeout=10) as http:
            members = []
            for i in range(RELATIONSHIPS):
                rid, people = await couple(http, f"A{i}", f"B{i}")
                hook = {"url": receiver.url, "event_types": ["checkin.logged"]}
                await people[0].ok("POST", f"/v1/relationships/{rid}/webhooks", hook)
                members += [(rid, person) for person in people]

            elections: dict[str, float] = {}
            quorum_window: list[float] = []
            faults: dict[str, Callable[[], Awaitable[None]]] = {
                CHECKIN_LEADER: partial(kill_leader, cluster, namespace, "checkin", elections),
                GATEWAY_LEADER: partial(kill_leader, cluster, namespace, "gateway", elections),
                QUORUM: partial(lose_quorum, cluster, namespace, quorum_window),
            }
            durations: dict[str, float] = {}
            load = Load(members)
            load.start()
            await asyncio.sleep(BEFORE)
            for fault, inject in faults.items():
                pids = {name: p.pid for name, p in system.processes.items()}
                load.phase = fault
                started = time.monotonic()
                await asyncio.sleep(BEFORE)
                await inject()
                await asyncio.sleep(AFTER)
                await check_everyone_is_up(system, pids, killed="")
                durations[fault] = time.monotonic() - started
            load.phase = "after"
            await asyncio.sleep(BEFORE)
            await load.stop()

        observer = cluster.user_url(OBSERVER)
        observer_inbox = inbox_prefix(cluster.namespace, OBSERVER)

        async def everything_arrived() -> Seen | None:
            seen = await look(system, observer, restartable_mongo.url, receiver, observer_inbox)
            return seen if settled(seen, load) else None

        stopped = time.monotonic()
        with contextlib.suppress(AssertionError):  # what is missing shows in the counts below
            await eventually(everything_arrived, timeout=SETTLE, interval=1)
        settle_seconds = time.monotonic() - stopped
        await asyncio.sleep(2)  # anything still to come would be a duplicate: let it show
        seen = await look(system, observer, restartable_mongo.url, receiver, observer_inbox)
        stored_at = await published_at(cluster, namespace)
        unbound = await eventually_empty(partial(consumers_drained, cluster, namespace))
        check_no_restarts(system)
    receiver.stop()

    phases = ["warm-up", *faults, "after"]
    by_phase = {p: [w for w in load.writes if w.phase == p] for p in phases}
    rows = [row(p, by_phase[p], seen, load) for p in phases]
    total = row("all", load.writes, seen, load)
    accepted_ids = {w.entry_id for w in load.accepted()}
    strays = {name: sum(1 for i in layer if i not in accepted_ids)
              for name, layer in (("stored", seen.stored), ("published", seen.published),
                                  ("delivered", seen.delivered))}  # fmt: skip
    went, came_back = quorum_window
    during_outage = [w for w in load.accepted() if went <= w.accepted_at <= came_back]
    stalls = {p: (r["slowest_s"], slowest_publish(by_phase[p], stored_at))
              for p, r in zip(phases, rows, strict=True)}  # fmt: skip
    title = "three-node JetStream cluster, R3, under load (tests/e2e/test_cluster_faults.py):"
    figures(
        "\n".join([title, *table([*rows, total]).splitlines()[1:]])
        + f"\nentries nobody saw accepted: {strays}"
        + "\nnew stream leader after SIGKILL of its leader (s): "
        + ", ".join(f"{owner} {s:.1f}" for owner, s in elections.items())
        + "\nslowest write per phase, HTTP accept / on the stream after accept (s): "
        + ", ".join(f"{p} {a} / {b}" for p, (a, b) in stalls.items())
        + f"\nwithout quorum for {came_back - went:.1f} s: {len(during_outage)} writes accepted"
        + f" (held in the outbox), refusals {dict(load.refusals(QUORUM)) or '-'}"
        + "\nseconds per phase (load, fault, recovery): "
        + ", ".join(f"{k} {v:.1f}" for k, v in durations.items())
        + f"; all settled {settle_seconds:.1f} s after the load stopped"
    )

    assert total["accepted"] > 100, total  # the load was real
    assert total["unclean"] == [], total["unclean"]
    assert total["never_accepted"] == 0, total
    assert total["duplicates"] == 0 and total["lost"] == 0, table([*rows, total])
    assert strays == {"stored": 0, "published": 0, "delivered": 0}, strays
    per_relationship = Counter(w.relationship_id for w in load.accepted())
    assert seen.counted_by_day == per_relationship  # insights counted each exactly once
    assert unbound == [], unbound  # every consumer bound again and drained, by itself
    assert set(elections) == {"checkin", "gateway"}  # both leaders really moved
    for r in rows[1:-1]:  # each fault's writes went on through it
        assert r["accepted"] > 0, r


async def eventually_empty(
    check: Callable[[], Awaitable[list[str]]], timeout: float = 60.0
) -> list[str]:
    """The last answer of `check` once it is empty, or when time is up (shown by the assert)."""
    last: list[str] = []

    async def empty() -> bool:
        nonlocal last
        last = await check()
        return not last

    with contextlib.suppress(AssertionError):
        await eventually(empty, timeout=timeout, interval=1)
    return last


def check_no_restarts(system: System) -> None:
    for name, process in system.processes.items():
        assert process.alive(), f"{name} died after the faults (log: {system.logs / name}.log)"
