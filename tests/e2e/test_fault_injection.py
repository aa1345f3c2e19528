"""Fault injection under load: members keep writing while each service is SIGKILLed and
restarted, and the nats-server and the MongoDB server are stopped and started again.

Afterwards every write a member saw accepted is stored once, on the stream once, counted once
by insights and delivered once to a webhook receiver; every refusal on the way was a clean
503 / connection error / "in progress" whose retry with the same Idempotency-Key succeeded;
and every process is still up. The counts are printed after the test run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import nats
import pytest
from pymongo import AsyncMongoClient

from services.insights import store
from shared.subjects import database_name
from tests.support.api import couple
from tests.support.load import Load, Write
from tests.support.receiver import Receiver
from tests.support.servers import PrivateMongo, PrivateNats
from tests.support.streams import read_subject
from tests.support.system import System, running_system
from tests.support.waiting import eventually

RELATIONSHIPS = 8  # two members each, all writing at once
SERVICE_KILLS = ("checkin", "insights", "scheduler", "gateway")
BEFORE, AFTER = 1.5, 2.0  # seconds of load around each fault
DOWN = 4.0  # seconds a server stays stopped: longer than a request's wait for it
CLIENT_SIDE = ("checkin", "gateway", "nats-server", "mongodb")  # faults a writer must notice


@dataclass
class Seen:
    """What each layer holds, by entry id."""

    stored: Counter[str]
    published: Counter[str]
    aggregated: Counter[str]
    delivered: Counter[str]  # distinct webhook ids per entry
    redelivered: Counter[str]  # the same webhook id again (receivers deduplicate on it)
    counted_by_day: Counter[str]  # insights' day counters, per relationship


async def look(
    system: System, nats_url: str, mongo_url: str, receiver: Receiver, inbox: str | None = None
) -> Seen:
    """What every layer holds. `inbox`: the reply prefix of the NATS user in `nats_url`."""
    ns = system.namespace
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    try:
        entries = client[database_name(ns, "checkin")].entries.find({"kind": "checkin"}, {"_id": 1})
        stored = Counter([e["_id"] async for e in entries])
        insights = client[database_name(ns, "insights")]
        markers = {m["_id"] async for m in insights.processed_events.find({}, {"_id": 1})}
        days = Counter[str]()
        for day in await store.load_days(insights):
            days[day["relationship_id"]] += int(day.get("checkins", 0))
    finally:
        await client.close()
    connection = await (
        nats.connect(nats_url, inbox_prefix=inbox) if inbox else nats.connect(nats_url)
    )
    try:
        events = await read_subject(
            connection, f"{ns}_CHECKIN".upper(), f"{ns}.checkin.evt.*.checkin.logged"
        )
    finally:
        await connection.close()
    published = Counter(e["data"]["checkin_id"] for e in events)
    aggregated = Counter(
        e["data"]["checkin_id"] for e in events if f"aggregates:{e['id']}" in markers
    )
    hooks: dict[str, Counter[str]] = {}
    for delivery in list(receiver.received):
        webhook_id = {k.lower(): v for k, v in delivery.headers.items()}["webhook-id"]
        hooks.setdefault(json.loads(delivery.body)["subject"], Counter())[webhook_id] += 1
    delivered = Counter({entry: len(ids) for entry, ids in hooks.items()})
    redelivered = Counter({entry: sum(ids.values()) - len(ids) for entry, ids in hooks.items()})
    return Seen(stored, published, aggregated, delivered, +redelivered, days)


def settled(seen: Seen, load: Load) -> bool:
    ids = {w.entry_id for w in load.accepted()}
    return all(ids <= set(layer) for layer in (seen.published, seen.aggregated, seen.delivered))


def row(phase: str, writes: list[Write], seen: Seen, load: Load) -> dict[str, Any]:
    ids = [w.entry_id for w in writes if w.entry_id]
    layers = {"stored": seen.stored, "published": seen.published,
              "aggregated": seen.aggregated, "delivered": seen.delivered}  # fmt: skip
    return {
        "phase": phase,
        "accepted": len(ids),
        **{name: sum(1 for i in ids if layer[i] >= 1) for name, layer in layers.items()},
        "duplicates": sum(layer[i] - 1 for layer in layers.values() for i in ids if layer[i] > 1),
        "lost": sum(1 for layer in layers.values() for i in ids if layer[i] == 0),
        "redelivered": sum(seen.redelivered[i] for i in ids),
        "retried": sum(1 for w in writes if w.retried and w.entry_id),
        "refusals": dict(load.refusals(phase)),
        "unclean": [u for w in writes for u in w.unclean],
        "never_accepted": sum(1 for w in writes if not w.entry_id),
        "slowest_s": round(max((w.took for w in writes), default=0.0), 1),
    }


def table(rows: list[dict[str, Any]]) -> str:
    columns = ("accepted", "stored", "published", "aggregated", "delivered", "duplicates",
               "lost", "retried", "never_accepted", "redelivered", "slowest_s")  # fmt: skip
    header = f"{'phase':<12}" + "".join(f"{c:>15}" for c in columns) + "  clean refusals"
    lines = ["fault injection under load (tests/e2e/test_fault_injection.py):", header]
    for r in rows:
        cells = "".join(f"{r[c]:>15}" for c in columns)
        lines.append(f"{r['phase']:<12}{cells}  {r['refusals'] or '-'}")
    return "\n".join(lines)


async def stop_and_start(server: PrivateNats | PrivateMongo) -> None:
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(DOWN)
    await asyncio.to_thread(server.start)


async def check_everyone_is_up(system: System, pids_before: dict[str, int], killed: str) -> None:
    """No process died but the one killed on purpose, and the system answers ready again."""
    for name, process in system.processes.items():
        assert process.alive(), f"{name} is down (log: {system.logs / name}.log)"
        if name != killed:
            assert process.pid == pids_before[name], f"{name} restarted on its own"
    last: list[str] = ["no answer"]  # what readiness said last, to name what was not ready
    async with httpx.AsyncClient(timeout=5) as client:

        async def ready() -> bool:
            try:
                response = await client.get(f"{system.api}/readyz")
            except httpx.TransportError as exc:
                last[0] = type(exc).__name__
                return False
            last[0] = response.text
            return response.status_code == 200

        try:
            await eventually(ready, timeout=60, interval=0.5)
        except AssertionError as exc:
            own = await each_ones_readiness(client, system)
            raise AssertionError(f"not ready again after {killed}: {last[0]}; {own}") from exc


async def each_ones_readiness(client: httpx.AsyncClient, system: System) -> str:
    """What each process's own /readyz says (NATS, MongoDB, its consumers), to tell a service
    that answered "not ready" from one that did not answer the gateway's ping in time."""
    said = []
    for name, port in sorted(system.ports.items()):
        try:
            response = await client.get(f"http://127.0.0.1:{port}/readyz")
            said.append(f"{name}: {response.text}")
        except httpx.TransportError as exc:
            said.append(f"{name}: {type(exc).__name__}")
    return "; ".join(said)


@pytest.mark.slow
@pytest.mark.timeout(420)
async def test_nothing_accepted_is_lost_or_doubled_while_processes_and_servers_fail(
    restartable_nats: PrivateNats, restartable_mongo: PrivateMongo, tmp_path, figures
):
    receiver = Receiver().start()
    namespace = f"f{uuid.uuid4().hex[:10]}"
    with running_system(
        restartable_nats.url, restartable_mongo.url, namespace, tmp_path / "logs",
        rate_per_second="10000", rate_burst="10000",
        anonymous_rate_per_second="1000", anonymous_rate_burst="1000",
        webhook_allow_loopback_http="true", webhook_retry_seconds="[0.5, 1, 2, 4, 8, 15]",
        idempotency_abandoned_seconds="3", mongo_timeout_seconds="3", webhook_timeout_seconds="3",
    ) as system:  # fmt: skip
        async with httpx.AsyncClient(base_url=system.api, timeout=10) as http:
            members = []
            for i in range(RELATIONSHIPS):
                rid, people = await couple(http, f"A{i}", f"B{i}")
                hook = {"url": receiver.url, "event_types": ["checkin.logged"]}
                await people[0].ok("POST", f"/v1/relationships/{rid}/webhooks", hook)
                members += [(rid, person) for person in people]

            durations: dict[str, float] = {}
            load = Load(members)
            load.start()
            await asyncio.sleep(BEFORE)
            faults: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                *((s, partial(asyncio.to_thread, system.kill_and_restart, s))
                  for s in SERVICE_KILLS),
                ("nats-server", partial(stop_and_start, restartable_nats)),
                ("mongodb", partial(stop_and_start, restartable_mongo)),
            ]  # fmt: skip
            for fault, inject in faults:
                pids = {name: p.pid for name, p in system.processes.items()}
                load.phase = fault
                started = time.monotonic()
                await asyncio.sleep(BEFORE)
                await inject()
                await asyncio.sleep(AFTER)
                await check_everyone_is_up(system, pids, killed=fault)
                durations[fault] = time.monotonic() - started
            load.phase = "after"
            await asyncio.sleep(BEFORE)
            await load.stop()

        async def everything_arrived() -> Seen | None:
            seen = await look(system, restartable_nats.url, restartable_mongo.url, receiver)
            return seen if settled(seen, load) else None

        stopped = time.monotonic()
        with contextlib.suppress(AssertionError):  # what is missing shows in the counts below
            await eventually(everything_arrived, timeout=120, interval=1)
        settle_seconds = time.monotonic() - stopped
        await asyncio.sleep(2)  # anything still to come would be a duplicate: let it show
        seen = await look(system, restartable_nats.url, restartable_mongo.url, receiver)
        for name, process in system.processes.items():
            assert process.alive(), f"{name} died after the faults"
    receiver.stop()

    phases = ["warm-up", *(f for f, _ in faults), "after"]
    rows = [row(p, [w for w in load.writes if w.phase == p], seen, load) for p in phases]
    accepted_ids = {w.entry_id for w in load.accepted()}
    total = row("all", load.writes, seen, load)
    strays = {name: sum(1 for i in layer if i not in accepted_ids)
              for name, layer in (("stored", seen.stored), ("published", seen.published),
                                  ("delivered", seen.delivered))}  # fmt: skip
    figures(
        table([*rows, total])
        + f"\nentries nobody saw accepted: {strays}"
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
    for r in rows:
        if r["phase"] in CLIENT_SIDE:
            assert r["refusals"], f"the {r['phase']} fault never reached a writer: {r}"
