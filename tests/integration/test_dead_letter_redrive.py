"""Dead letters through real JetStream and MongoDB: an event that failed until a fault was
fixed is listed with its reason, redriven through the gateway's route onto its original subject,
applied exactly once, and a second redrive changes nothing."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from services.checkin.settings import CheckinSettings
from services.gateway.app import create_app
from services.gateway.ops import dead_letters
from services.gateway.settings import GatewaySettings
from services.insights.settings import InsightsSettings
from shared.messages import DecodedEvent, new_event
from shared.messages.base import subject_of
from shared.messages.checkin import BidMade, TouchLogged
from shared.mongo import Session
from shared.nats import publish_event
from shared.redrive import redrive, redrive_id
from shared.runtime import ServiceRuntime
from shared.subjects import stream_name
from tests.support.gateway import http
from tests.support.runtimes import running
from tests.support.samples import SAMPLES
from tests.support.waiting import eventually

REASON = "gave up after 2 deliveries: RuntimeError"
TOKEN = "ops-test-token"
OPS = {"Authorization": f"Bearer {TOKEN}"}


def touch(touch_id: str):
    return new_event(
        TouchLogged.model_validate({**SAMPLES["touch.logged"], "touch_id": touch_id}),
        relationship_id="r1",
        actor_id="m_alice",
    )


def bid(bid_id: str):
    return new_event(
        BidMade.model_validate({**SAMPLES["bid.made"], "bid_id": bid_id}),
        relationship_id="r1",
        actor_id="m_alice",
    )


@pytest.fixture
def owner(make_settings) -> ServiceRuntime:
    return ServiceRuntime(make_settings(CheckinSettings))


@pytest.fixture
def consumer(make_settings) -> ServiceRuntime:
    return ServiceRuntime(make_settings(InsightsSettings, max_deliver=2), owns_events=False)


class FlakyProjection:
    """Counts bids with apply_once; raises while `broken` (the bug an operator fixes)."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.broken = True
        self.attempts = 0

    async def handle(self, event: DecodedEvent) -> None:
        self.attempts += 1
        if self.broken:
            raise RuntimeError("the projection has a bug")
        db = self.runtime.db

        async def effect(session: Session) -> None:
            await db.counters.update_one(
                {"_id": "bids"}, {"$inc": {"n": 1}}, upsert=True, session=session
            )

        await self.runtime.apply_once("probe", event.id, effect)

    async def applied(self) -> int:
        counter = await self.runtime.db.counters.find_one({"_id": "bids"})
        return 0 if counter is None else int(counter["n"])


async def test_a_redrive_over_http_after_the_fix_applies_the_event_exactly_once(
    owner, consumer, make_settings, nats_client, mongo
):
    """Poison, fix, redrive through the gateway's route: applied once. The redrive names a
    reason and an event type, so another type's letter of the same reason stays put."""
    projection = FlakyProjection(consumer)
    consumer.consume("checkin", "probe", projection.handle)
    namespace = owner.settings.namespace
    gateway = create_app(make_settings(GatewaySettings, ops_token=SecretStr(TOKEN)))
    async with running(owner, consumer), http(gateway) as client:
        event = bid("b-poisoned")
        await publish_event(owner.broker, namespace, event)
        await publish_event(owner.broker, namespace, touch("t-poisoned"))

        async def listed() -> list | None:
            response = await client.get("/ops/dead-letters", headers=OPS)
            found = [g for g in response.json()["groups"] if g["service"] == "insights"]
            return found if len(found) == 2 else None

        groups = {g["event_type"]: g for g in await eventually(listed, timeout=20)}
        group = groups["bid.made"]
        assert (group["reason"], group["count"]) == (REASON, 1)
        assert (groups["touch.logged"]["reason"], groups["touch.logged"]["count"]) == (REASON, 1)
        assert group["consumers"] == ["insights-probe-checkin"]
        assert group["first_seen"] <= group["last_seen"]
        letters = await dead_letters.scan(nats_client, namespace, "insights")
        [letter] = [one for one in letters if one.event_type == "bid.made"]
        assert letter.subject == subject_of(namespace, event)
        assert letter.message_id == event.id  # the original Nats-Msg-Id, kept for the redrive
        assert await projection.applied() == 0

        projection.broken = False  # the fix is deployed
        selection = {"reason": REASON, "event_type": "bid.made"}
        response = await client.post("/ops/dead-letters/insights/redrive", headers=OPS,
                                     json=selection)  # fmt: skip
        assert response.status_code == 200, response.text
        assert response.json() == {
            "selected": 1, "redriven": 1, "already_redriven": 0, "failed": []}  # fmt: skip

        async def applied_once() -> bool:
            return await projection.applied() == 1

        await eventually(applied_once, timeout=20)
        # The touch of the same reason was not selected: still there, and never applied.
        [left] = await dead_letters.scan(nats_client, namespace, "insights")
        assert left.event_type == "touch.logged" and left.reason == REASON

        # A second redrive of that group finds nothing left to send.
        again = await client.post("/ops/dead-letters/insights/redrive", headers=OPS,
                                  json=selection)  # fmt: skip
        assert again.json() == {
            "selected": 0, "redriven": 0, "already_redriven": 0, "failed": []}  # fmt: skip
        removed = await client.delete(f"/ops/dead-letters/insights/{left.sequence}", headers=OPS)
        assert (removed.status_code, removed.json()) == (200, {"removed": 1})
        assert await dead_letters.scan(nats_client, namespace, "insights") == []
        # Published once more with another id (as if the de-duplication window had passed):
        # the consumer's idempotency by event id keeps the count at one.
        js = nats_client.jetstream()
        await js.publish(subject_of(namespace, event), event.to_json(),
                         headers={"Nats-Msg-Id": "after-the-window"})  # fmt: skip
        seen = projection.attempts
        await eventually(lambda: projection.attempts > seen, timeout=20)

        async def settled() -> bool:
            info = await js.consumer_info(
                stream_name(namespace, "checkin"), "insights-probe-checkin"
            )
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(settled, timeout=20)
        assert await projection.applied() == 1


async def test_the_same_dead_letter_redriven_twice_is_published_once(
    owner, consumer, nats_client, mongo
):
    projection = FlakyProjection(consumer)
    consumer.consume("checkin", "probe", projection.handle)
    namespace = owner.settings.namespace
    async with running(owner, consumer):
        event = bid("b-twice")
        await publish_event(owner.broker, namespace, event)

        async def dead() -> list:
            return await dead_letters.scan(nats_client, namespace, "insights")

        [letter] = await eventually(dead, timeout=20)
        js = nats_client.jetstream()
        before = (await js.stream_info(stream_name(namespace, "checkin"))).state.messages
        # Inside the de-duplication window JetStream still knows the original id, so the
        # redrive goes out under one derived from the dead letter; a repeat is dropped.
        first = await redrive(nats_client, namespace, "checkin", "insights", letter.sequence)
        second = await redrive(nats_client, namespace, "checkin", "insights", letter.sequence)
        assert first.published and first.message_id == redrive_id(event.id, "insights",
                                                                   letter.sequence)  # fmt: skip
        assert not second.published
        after = (await js.stream_info(stream_name(namespace, "checkin"))).state.messages
        assert after == before + 1
