"""End to end: from an accepted HTTP write to its webhook arriving, p50/p99 at a steady rate.

All four services run as processes on private servers. One member's relationship has a
webhook for `checkin.logged` pointing at a loopback receiver. Shared check-ins are posted
on a fixed clock (RATE per second for SECONDS, not back to back); for each we note when
it was sent, when its 201 came back, when its event was readable on the checkin stream
(a plain nats-py ordered consumer in this process) and when its webhook arrived (matched
by the body's "subject", the entry id). All times come from one clock in this process.

- figure: 201 -> webhook arrived (the issue's definition);
- baseline: the same write, sent -> its event readable on JetStream: the write path alone;
- ratio: sent -> webhook over sent -> on the stream, at p50: how many times longer the whole
  trip takes than reaching the stream, i.e. what the webhook leg (gateway consumer, delivery
  record, dispatcher tick, signed POST) adds. Measured from sending because the event often
  reaches the stream before the 201 reaches the client, which would make the baseline ~0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from bench.report import conclude, goal, percentile_ms, spread
from bench.system import attune, member_with_relationship
from deploy.servers import private_servers
from shared.subjects import owner_events, stream_name
from tests.support.receiver import Receiver

NAMESPACE = "bench"
RATE = 10.0  # writes per second
SECONDS = 20.0
WARM_UP = 5
WAIT_SECONDS = 60.0
SETTINGS = {
    "ATTUNE_NAMESPACE": NAMESPACE,
    "ATTUNE_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
    # The relay is woken on every commit; polling is only its fallback.
    "ATTUNE_OUTBOX_POLL_SECONDS": "0.05",
}


@dataclass
class Write:
    due: float
    sent: float = 0.0
    accepted: float = 0.0
    entry_id: str = ""


class Writer:
    def __init__(self, http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
        self.http, self.path, self.headers = http, path, headers

    async def write(self, at: Write) -> Write:
        await asyncio.sleep(max(0.0, at.due - time.perf_counter()))
        at.sent = time.perf_counter()
        response = await self.http.post(self.path, headers=self.headers, json={
            "mood": 4, "connection": 7, "note": "benchmark", "visibility": "shared"})  # fmt: skip
        assert response.status_code == 201, response.text
        at.accepted = time.perf_counter()
        at.entry_id = str(response.json()["id"])
        return at

    async def steady(self, count: int, rate: float) -> list[Write]:
        start = time.perf_counter() + 0.1
        slots = [Write(due=start + i / rate) for i in range(count)]
        return await asyncio.gather(*(self.write(slot) for slot in slots))


async def arrived_all(ids: list[str], *seen: dict[str, float]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not all(i in s for s in seen for i in ids):
        if time.monotonic() > deadline:
            missing = sum(i not in s for s in seen for i in ids)
            raise TimeoutError(f"{missing} arrivals missing after {WAIT_SECONDS}s")
        await asyncio.sleep(0.05)


@dataclass
class Run:
    writes: list[Write]
    on_stream: dict[str, float]  # entry id -> when its event was readable on JetStream
    hooked: dict[str, float]  # entry id -> when its webhook arrived
    duplicates: int


async def measure(api: str, nats_url: str, count: int) -> Run:
    receiver = Receiver().start()
    connection = await nats.connect(nats_url)
    on_stream: dict[str, float] = {}

    async def readable(msg: Msg) -> None:
        on_stream.setdefault(str(json.loads(msg.data).get("subject")), time.perf_counter())

    try:
        await connection.jetstream().subscribe(
            owner_events(NAMESPACE, "checkin"), stream=stream_name(NAMESPACE, "checkin"),
            cb=readable, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW,
        )  # fmt: skip
        headers, rid = await member_with_relationship(api)
        async with httpx.AsyncClient(base_url=api, timeout=30) as http:
            subscription = {"url": receiver.url, "event_types": ["checkin.logged"]}
            hook = await http.post(
                f"/v1/relationships/{rid}/webhooks", headers=headers, json=subscription
            )
            assert hook.status_code == 201, hook.text
            writer = Writer(http, f"/v1/relationships/{rid}/checkins", headers)
            # Warm up every leg (connections, first deliveries), then measure.
            warm = await writer.steady(WARM_UP, RATE)
            await arrived_all([w.entry_id for w in warm], on_stream, receiver.arrived)
            writes = await writer.steady(count, RATE)
            await arrived_all([w.entry_id for w in writes], on_stream, receiver.arrived)
    finally:
        await connection.close()
        receiver.stop()
    return Run(writes, on_stream, receiver.arrived, receiver.duplicates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    count = max(int(RATE * args.seconds), 1)
    with (
        tempfile.TemporaryDirectory() as tmp,
        private_servers(Path(tmp)) as (nats_url, db_url),
        attune(Path(tmp), nats_url, db_url, SETTINGS) as running,
    ):
        run = asyncio.run(measure(running.api, nats_url, count))
    writes, on_stream, hooked = run.writes, run.on_stream, run.hooked
    lateness = max(w.sent - w.due for w in writes)
    write = [w.accepted - w.sent for w in writes]
    to_stream = [on_stream[w.entry_id] - w.sent for w in writes]
    to_hook = [hooked[w.entry_id] - w.sent for w in writes]
    after_201 = [hooked[w.entry_id] - w.accepted for w in writes]
    print(f"{count} shared check-ins at {RATE:g}/s on a fixed clock, the latest sent "
          f"{lateness * 1000:.0f} ms behind its slot")  # fmt: skip
    print(f"webhooks delivered twice: {run.duplicates}")
    print(f"write accepted (sent -> 201):              {spread(write)}")
    print(f"event readable on JetStream (sent -> ...): {spread(to_stream)}")
    print(f"webhook arrived (sent -> ...):             {spread(to_hook)}")
    print(f"webhook arrived (201 -> ...):              {spread(after_201)}")
    goal("webhook_p99_ms", percentile_ms(after_201, 0.99))
    conclude(
        f"201 -> webhook {spread(after_201)}",
        f"sent -> on JetStream {spread(to_stream)}",
        "webhook/stream (p50, from sending)",
        percentile_ms(to_hook, 0.5) / percentile_ms(to_stream, 0.5),
    )


if __name__ == "__main__":
    main()
