"""Hostile messages published straight onto every stream the services consume, and onto their
request subjects: each consumer dead-letters every bad one with a reason and goes on with the
good event behind them; a responder answers a bad request with an error and keeps answering."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerInfo

from shared.envelope import Visibility
from shared.messages.base import model_for, new_event, subject_of
from shared.nats import DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, MSG_ID_HEADER
from shared.rpc import Kind, subject_for
from shared.subjects import SERVICES, dead_letter_stream_name, dead_letter_subject, stream_name
from tests.support.samples import SAMPLES
from tests.support.system import System
from tests.support.waiting import eventually

# A good event each owner publishes, with nothing sealed in it.
GOOD = {"checkin": "bid.made", "gateway": "member.updated",
        "insights": "insight.health_updated", "scheduler": "review.due"}  # fmt: skip
ANOTHER_OWNER = {"checkin": "gateway", "gateway": "checkin",
                 "insights": "scheduler", "scheduler": "insights"}  # fmt: skip


def event(event_type: str, relationship_id: str | None, **changes: Any) -> dict[str, Any]:
    envelope = new_event(
        model_for(event_type, 1).model_validate(SAMPLES[event_type]),
        relationship_id=relationship_id, actor_id="m_alice", visibility=Visibility.SHARED,
    )  # fmt: skip
    document: dict[str, Any] = json.loads(envelope.to_json())
    document.update(changes)
    return document


def as_json(document: object) -> bytes:
    return json.dumps(document).encode()


def hostile(owner: str, marker: str) -> dict[str, bytes]:
    """Every way a message can be unusable, each carrying `marker` so its dead letter is ours."""
    good = event(GOOD[owner], "r_hostile")
    other_type = next(t for t, o in _owners() if o == owner and t != GOOD[owner])
    deep = b'{"marker": "' + marker.encode() + b'", "d": ' + b"[" * 60_000 + b"]" * 60_000 + b"}"
    return {
        "not JSON": b"this is not json " + marker.encode(),
        "invalid UTF-8": b'{"marker": "' + marker.encode() + b'", "x": "\xff\xfe"}',
        "a JSON array": as_json([marker]),
        "nested 60,000 deep": deep,
        "oversized": as_json({"marker": marker, "pad": "x" * 400_000}),
        "no envelope": as_json({"marker": marker, "hello": "world"}),
        "data breaking the schema": as_json(
            {**good, "subject": marker, "data": {k: {"not": ["this"]} for k in good["data"]}}
        ),
        "unreadable version": as_json({**good, "subject": marker, "dataversion": 99}),
        "another owner's event": as_json(
            {**event(GOOD[ANOTHER_OWNER[owner]], "r_hostile"), "subject": marker}
        ),
        "type that does not match the subject": as_json(
            {**event(other_type, "r_hostile"), "subject": marker}
        ),
    }


def _owners() -> list[tuple[str, str]]:
    return [(t, model_for(t, 1).owner) for t in SAMPLES]


@dataclass
class DeadLetter:
    consumer: str
    subject: str
    reason: str
    body: bytes


async def dead_letters(client: Client, namespace: str, service: str) -> list[DeadLetter]:
    js = client.jetstream()
    stream = dead_letter_stream_name(namespace, service)
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    sub = await js.pull_subscribe(dead_letter_subject(namespace, service), stream=stream)
    found: list[DeadLetter] = []
    try:
        while len(found) < info.state.messages:
            for message in await sub.fetch(info.state.messages - len(found), timeout=3):
                headers = message.headers or {}
                consumer = headers.get("Attune-Dlq-Consumer", "")
                subject = headers.get(DLQ_SUBJECT_HEADER, "")
                reason = headers.get(DLQ_REASON_HEADER, "")
                found.append(DeadLetter(consumer, subject, reason, message.data))
                await message.ack()
    finally:
        await sub.unsubscribe()
    return found


async def consumers_of(
    client: Client, namespace: str, owner: str, subject: str
) -> list[ConsumerInfo]:
    """The consumers of `owner`'s stream that are sent `subject` (one the server filters for a
    single other event type, the gateway's erasure bookkeeping, is never sent it)."""
    found = await client.jetstream().consumers_info(stream_name(namespace, owner))
    return [i for i in found if matches(i.config.filter_subject or ">", subject)]


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a last `>` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(tokens) == len(wanted)


def test_subject_matching_follows_nats():
    assert matches("a.*.c", "a.b.c") and matches("a.>", "a.b.c") and matches(">", "a")
    assert not matches("a.*", "a.b.c") and not matches("a.>", "a") and not matches("a.b", "a.c")


@pytest.mark.parametrize("owner", SERVICES)
async def test_every_consumer_dead_letters_bad_messages_and_processes_the_good_one_behind(
    owner: str, system: System, nats_client: Client, figures: Callable[[str], None]
):
    ns, js = system.namespace, nats_client.jetstream()
    marker = f"hostile-{uuid.uuid4().hex}"
    subject = f"{ns}.{owner}.evt.r_hostile.{GOOD[owner]}"
    bad = hostile(owner, marker)
    for number, body in enumerate(bad.values()):
        await js.publish(subject, body, headers={MSG_ID_HEADER: f"{marker}-{number}"})
    good = event(GOOD[owner], "r_hostile")
    assert (
        subject_of(
            ns,
            new_event(
                model_for(GOOD[owner], 1).model_validate(SAMPLES[GOOD[owner]]),
                relationship_id="r_hostile",
                actor_id="m_alice",
            ),
        )
        == subject
    )
    ack = await js.publish(subject, json.dumps(good).encode(), headers={MSG_ID_HEADER: good["id"]})

    consumers = await consumers_of(nats_client, ns, owner, subject)
    assert consumers, f"nothing consumes the {owner} stream"

    async def all_moved_past_the_good_one() -> bool:
        infos = await consumers_of(nats_client, ns, owner, subject)
        return all(
            i.delivered is not None
            and i.delivered.stream_seq >= ack.seq
            and i.num_ack_pending == 0
            and i.num_pending == 0
            for i in infos
        )

    await eventually(all_moved_past_the_good_one, timeout=45, interval=0.25)

    letters = {s: await dead_letters(nats_client, ns, s) for s in SERVICES}
    for info in consumers:
        durable = info.config.durable_name or info.name
        mine = [d for d in letters[durable.split("-")[0]] if d.consumer == durable]
        ours = [d for d in mine if marker.encode() in d.body]
        missing = [what for what, body in bad.items() if not any(d.body == body for d in ours)]
        assert missing == [], (durable, missing)
        assert all(d.reason and d.subject == subject for d in ours), durable
        assert not any(good["id"].encode() in d.body for d in mine), (
            f"{durable} refused the good one"
        )
    durables = sorted(i.config.durable_name or i.name for i in consumers)
    figures(
        f"hostile events on the {owner} stream: all {len(bad)} kinds dead-lettered with a reason "
        f"by each of its {len(consumers)} consumers ({', '.join(durables)}); the good one behind "
        "them processed"
    )


REQUESTS = {
    "not JSON": b"not json at all",
    "invalid UTF-8": b'{"payload": "\xff\xfe"}',
    "nested 60,000 deep": b'{"payload": ' + b"[" * 60_000 + b"]" * 60_000 + b"}",
    "no payload": b'{"command_id": 5}',
    "a payload breaking the schema": json.dumps(
        {"command_id": "x", "context": {"actor_id": "m_x"}, "payload": {"mood": "?", "x": [[1]]}}
    ).encode(),
}


@pytest.mark.parametrize("service, kind, name", [
    ("checkin", "cmd", "log_checkin"), ("checkin", "qry", "timeline"),
    ("scheduler", "qry", "schedule"), ("insights", "qry", "insights"),
])  # fmt: skip
async def test_a_responder_answers_bad_requests_with_an_error_and_keeps_answering(
    service: str, kind: Kind, name: str, system: System, nats_client: Client
):
    subject = subject_for(system.namespace, kind, service, name)
    for what, body in REQUESTS.items():
        reply = json.loads((await nats_client.request(subject, body, timeout=5)).data)
        assert reply["ok"] is False, what
        assert reply["error"]["status"] in (404, 422), (what, reply)
    ping = json.dumps({"command_id": "p", "context": {}, "payload": {}}).encode()
    subject = subject_for(system.namespace, "qry", service, "ping")
    answer = json.loads((await nats_client.request(subject, ping, timeout=5)).data)
    assert answer["ok"] is True, answer
