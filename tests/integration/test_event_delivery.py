"""Events through real JetStream: durable delivery, de-duplication, idempotent effects, DLQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy
from nats.js.api import ConsumerConfig as NatsConsumerConfig

from services.checkin.settings import CheckinSettings
from services.insights.settings import InsightsSettings
from shared import consumer
from shared.consumer import PermanentFailure
from shared.messages import DecodedEvent, new_event
from shared.messages.checkin import BidMade, CheckinErasureConfirmed
from shared.mongo import Session
from shared.nats import DLQ_REASON_HEADER, declare_stream, event_stream_config, publish_event
from shared.runtime import ServiceRuntime
from shared.subjects import (
    dead_letter_subject,
    event_subject,
    events_of_type,
    owner_events,
    stream_name,
)
from tests.support.runtimes import running
from tests.support.samples import SAMPLES
from tests.support.waiting import eventually


def bid(bid_id: str = "b1"):
    return new_event(
        BidMade.model_validate({**SAMPLES["bid.made"], "bid_id": bid_id}),
        relationship_id="r1",
        actor_id="m_alice",
    )


@pytest.fixture
def producer(make_settings) -> ServiceRuntime:
    return ServiceRuntime(make_settings(CheckinSettings))


@pytest.fixture
def consumer_runtime(make_settings) -> ServiceRuntime:
    return ServiceRuntime(make_settings(InsightsSettings, max_deliver=3), owns_events=False)


def record_into(runtime: ServiceRuntime) -> list[str]:
    """Consume checkin events on `runtime`, recording each event id handled."""
    seen: list[str] = []

    async def handle(event: DecodedEvent) -> None:
        seen.append(event.id)

    runtime.consume("checkin", "probe", handle)
    return seen


async def test_event_reaches_a_durable_consumer_once_even_when_published_twice(
    producer, consumer_runtime, nats_client, mongo
):
    seen = record_into(consumer_runtime)
    async with running(producer, consumer_runtime):
        first = bid("b1")
        assert await publish_event(producer.broker, producer.settings.namespace, first) is True
        assert await publish_event(producer.broker, producer.settings.namespace, first) is False
        second = bid("b2")
        await publish_event(producer.broker, producer.settings.namespace, second)
        await eventually(lambda: len(seen) >= 2)
    assert seen == [first.id, second.id]
    info = await nats_client.jetstream().stream_info(
        stream_name(producer.settings.namespace, "checkin")
    )
    assert info.state.messages == 2


async def test_an_effect_is_applied_once_under_forced_redelivery(
    producer, consumer_runtime, nats_client, mongo
):
    deliveries: list[str] = []

    async def handle(event: DecodedEvent) -> None:
        db = consumer_runtime.db

        async def effect(session: Session) -> None:
            await db.counters.update_one(
                {"_id": "bids"}, {"$inc": {"n": 1}}, upsert=True, session=session
            )

        await consumer_runtime.apply_once("probe", event.id, effect)
        deliveries.append(event.id)
        if len(deliveries) == 1:
            raise ConnectionError("lost the ack on the way back")  # forces a nak + redelivery

    consumer_runtime.consume("checkin", "probe", handle)
    async with running(producer, consumer_runtime):
        event = bid()
        await publish_event(producer.broker, producer.settings.namespace, event)
        await eventually(lambda: len(deliveries) >= 2)
        # The same event again under another message id (as after the dedup window).
        js = nats_client.jetstream()
        subject = event_subject(producer.settings.namespace, "checkin", "r1", "bid.made")
        await js.publish(subject, event.to_json(), headers={"Nats-Msg-Id": "another-id"})
        await eventually(lambda: len(deliveries) >= 3)
        counter = await consumer_runtime.db.counters.find_one({"_id": "bids"})
    assert deliveries == [event.id] * 3
    assert counter["n"] == 1


async def _dead_letters(nats_client: Client, namespace: str, count: int) -> list:
    js = nats_client.jetstream()
    sub = await js.pull_subscribe(dead_letter_subject(namespace, "insights"), durable=None)
    messages: list = []

    async def fetched() -> bool:
        with contextlib.suppress(TimeoutError):
            messages.extend(await sub.fetch(count - len(messages), timeout=0.5))
        return len(messages) >= count

    await eventually(fetched)
    return messages


async def test_invalid_messages_are_dead_lettered_with_a_reason_and_the_consumer_goes_on(
    producer, consumer_runtime, nats_client, mongo
):
    seen = record_into(consumer_runtime)
    namespace = producer.settings.namespace
    subject = event_subject(namespace, "checkin", "r1", "bid.made")
    broken_schema = json.loads(bid("b9").to_json())
    broken_schema["data"]["channel"] = "smoke_signal"
    future_version = json.loads(bid("b8").to_json())
    future_version["dataversion"] = 9
    bad = [b"{not json", json.dumps(broken_schema).encode(), json.dumps(future_version).encode()]
    async with running(producer, consumer_runtime):
        js = nats_client.jetstream()
        for index, body in enumerate(bad):
            await js.publish(subject, body, headers={"Nats-Msg-Id": f"bad-{index}"})
        good = bid("b-good")
        await publish_event(producer.broker, namespace, good)
        await eventually(lambda: good.id in seen)
        letters = await _dead_letters(nats_client, namespace, 3)
    reasons = [m.headers[DLQ_REASON_HEADER] for m in letters]
    assert "not JSON" in reasons[0]
    assert "channel" in reasons[1]
    assert "has no version 9" in reasons[2]
    assert [m.data for m in letters] == bad  # the original bytes, untouched
    assert seen == [good.id]


async def test_a_message_that_keeps_failing_is_dead_lettered_after_max_deliver(
    producer, consumer_runtime, nats_client, mongo
):
    attempts: list[str] = []

    async def handle(event: DecodedEvent) -> None:
        attempts.append(event.id)
        raise RuntimeError("downstream keeps failing")

    consumer_runtime.consume("checkin", "probe", handle)
    async with running(producer, consumer_runtime):
        await publish_event(producer.broker, producer.settings.namespace, bid())
        letters = await _dead_letters(nats_client, producer.settings.namespace, 1)
    assert len(attempts) == 3  # max_deliver
    assert "gave up after 3 deliveries: RuntimeError" in letters[0].headers[DLQ_REASON_HEADER]


async def test_a_batch_consumer_applies_a_backlog_in_batches_once_and_dead_letters_one_poison(
    producer, consumer_runtime, nats_client, mongo
):
    batches: list[list[DecodedEvent]] = []
    events = [bid(f"b{i}") for i in range(30)]
    poison = events[7].id

    async def effect(session: Session, fresh: list[DecodedEvent]) -> None:
        await consumer_runtime.db.applied.insert_many(
            [{"_id": e.id} for e in fresh], session=session
        )

    async def handle(batch: list[DecodedEvent]) -> None:
        batches.append(batch)
        if any(event.id == poison for event in batch):
            raise PermanentFailure("this one can never be applied")
        await consumer_runtime.apply_batch_once("probe", batch, effect)

    consumer_runtime.consume_batches("checkin", "probe", handle)
    async with running(producer):
        for event in events:  # a backlog before the consumer starts
            await publish_event(producer.broker, producer.settings.namespace, event)
        async with running(consumer_runtime):
            letters = await _dead_letters(nats_client, producer.settings.namespace, 1)
            db = consumer_runtime.db

            async def all_applied() -> bool:
                return await db.applied.count_documents({}) == 29

            await eventually(all_applied)
            # The same batch again (a redelivery after a lost ack) applies nothing twice.
            again = [e for e in batches[-1] if e.id != poison]
            assert await consumer_runtime.apply_batch_once("probe", again, effect) == []
            applied = {d["_id"] for d in await db.applied.find({}).to_list()}
    assert max(len(b) for b in batches) > 1  # the backlog came in batches
    assert "cannot apply: this one can never be applied" in letters[0].headers[DLQ_REASON_HEADER]
    assert applied == {e.id for e in events} - {poison}


async def test_a_backlog_of_full_batches_is_applied_in_stream_order_while_the_next_is_fetched(
    make_settings, producer, nats_client, mongo
):
    # Batches of 4: while one is written the next is fetched and decoded ahead of it; an
    # unreadable message in a batch fetched ahead is dead-lettered and the rest go on.
    runtime = ServiceRuntime(make_settings(InsightsSettings, consumer_batch_size=4),
                             owns_events=False)  # fmt: skip
    batches: list[list[str]] = []

    async def handle(batch: list[DecodedEvent]) -> None:
        batches.append([event.id for event in batch])

    runtime.consume_batches("checkin", "probe", handle)
    namespace = producer.settings.namespace
    events = [bid(f"b{i}") for i in range(13)]
    async with running(producer):
        for i, event in enumerate(events):
            if i == 6:  # inside the second batch
                subject = event_subject(namespace, "checkin", "r1", "bid.made")
                await nats_client.jetstream().publish(subject, b"{not json")
            await publish_event(producer.broker, namespace, event)
        async with running(runtime):
            letters = await _dead_letters(nats_client, namespace, 1)

            async def all_handled() -> bool:
                return sum(len(b) for b in batches) == len(events)

            await eventually(all_handled)
    assert [event_id for b in batches for event_id in b] == [e.id for e in events]
    assert max(len(b) for b in batches) == 4 and len(batches) >= 4
    assert letters[0].data == b"{not json"


async def test_a_trickle_through_a_batch_consumer_is_handled_at_once_whatever_timeout_nats_raises(
    make_settings, producer, monkeypatch, mongo
):
    """After the first message of a batch, the consumer waits a moment for more. nats-py
    ends that wait with its own TimeoutError or, when its deadline ran out while the
    server's "no messages" was on its way, a bare one; with a window this short most waits
    end the second way. Either way the first message is handled now, not redelivered once
    its ack wait (30 s) is over."""
    monkeypatch.setattr(consumer, "GATHER_SECONDS", 0.0001)
    runtime = ServiceRuntime(make_settings(InsightsSettings, consumer_batch_size=10),
                             owns_events=False)  # fmt: skip
    handled: list[str] = []

    async def handle(batch: list[DecodedEvent]) -> None:
        handled.extend(event.id for event in batch)

    runtime.consume_batches("checkin", "probe", handle)
    async with running(producer, runtime):
        for i in range(8):  # one at a time: each a batch of one after a gather that found none
            event = bid(f"t{i}")
            await publish_event(producer.broker, producer.settings.namespace, event)

            async def handled_now(event_id: str = event.id) -> bool:
                return event_id in handled

            await eventually(handled_now, timeout=10)


async def test_a_consumer_of_one_type_is_sent_only_that_type_even_on_a_durable_made_wider(
    producer, consumer_runtime, nats_client, mongo
):
    """`only_type` is the server's filter: the other events never reach the consumer (no
    fetch, decode or ack each), and a durable made before it was narrowed is narrowed."""
    ns, js = producer.settings.namespace, nats_client.jetstream()
    stream, durable = stream_name(ns, "checkin"), "insights-probe-checkin"
    await declare_stream(nats_client, event_stream_config(producer.settings, "checkin"))
    await js.add_consumer(stream, NatsConsumerConfig(
        durable_name=durable, filter_subject=owner_events(ns, "checkin"),
        ack_policy=AckPolicy.EXPLICIT,
    ))  # fmt: skip  # as an earlier version made it: every event
    seen: list[str] = []

    async def handle(event: DecodedEvent) -> None:
        seen.append(event.envelope.type)

    consumer_runtime.consume("checkin", "probe", handle, only_type="checkin.erasure_confirmed")
    done = new_event(
        CheckinErasureConfirmed.model_validate(SAMPLES["checkin.erasure_confirmed"]),
        relationship_id=None, actor_id=None,
    )  # fmt: skip
    async with running(producer, consumer_runtime):
        for event in (bid("b1"), done, bid("b2")):
            assert await publish_event(producer.broker, ns, event) is True
        await eventually(lambda: seen == ["checkin.erasure_confirmed"], timeout=20)
        info = await js.consumer_info(stream, durable)
    assert info.config.filter_subject == events_of_type(ns, "checkin", "checkin.erasure_confirmed")
    assert info.delivered.consumer_seq == 1 and info.num_pending == 0


@pytest.mark.timeout(60)  # without the fix the service's event loop spins: nothing else runs
async def test_a_batch_consumer_goes_on_after_its_prefetch_for_a_backlog_found_nothing(
    make_settings, producer, monkeypatch, mongo
):
    """A full batch makes the consumer fetch the next one while it is applied. When nothing
    more comes in time, that fetch ends in a TimeoutError: the consumer must drop it and
    fetch again, and take what is published later."""
    monkeypatch.setattr(consumer, "FETCH_WAIT_SECONDS", 0.05)
    found_nothing = asyncio.Event()
    next_batch = consumer._next_batch

    async def noting_next_batch(subscription: Any, size: int) -> list[Any]:
        try:
            return await next_batch(subscription, size)
        except TimeoutError:
            found_nothing.set()
            raise

    monkeypatch.setattr(consumer, "_next_batch", noting_next_batch)
    runtime = ServiceRuntime(make_settings(InsightsSettings, consumer_batch_size=2),
                             owns_events=False)  # fmt: skip
    handled: list[str] = []

    async def handle(batch: list[DecodedEvent]) -> None:
        if len(batch) == 2:  # a full batch: applied once its prefetch has found nothing
            await asyncio.wait_for(found_nothing.wait(), timeout=10)
        handled.extend(event.id for event in batch)

    runtime.consume_batches("checkin", "probe", handle, linger_seconds=0)
    async with running(producer, runtime):
        ns = producer.settings.namespace
        first = [bid("p1"), bid("p2")]
        await asyncio.gather(*(publish_event(producer.broker, ns, e) for e in first))

        async def both_handled() -> bool:
            return all(e.id in handled for e in first)

        await eventually(both_handled, timeout=20)
        later = bid("p3")
        await publish_event(producer.broker, ns, later)

        async def later_handled() -> bool:
            return later.id in handled

        await eventually(later_handled, timeout=20)
