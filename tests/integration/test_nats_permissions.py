"""Least privilege on the bus: a service cannot publish another's events or take its commands."""

from __future__ import annotations

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig

from deploy.nats_auth import write_embedded_config
from deploy.processes import free_port
from deploy.servers import start_nats
from shared.subjects import (
    access_subject,
    durable_name,
    event_subject,
    inbox_prefix,
    owner_events,
    relationship_events,
    stream_name,
)
from tests.support.waiting import eventually

NS = "attune"


@pytest.fixture
def secured_nats(tmp_path):
    port = free_port()
    config, passwords = write_embedded_config(tmp_path, NS, port, tmp_path / "store")
    server = start_nats(port, tmp_path / "store", tmp_path / "nats.log", config=config)
    yield f"nats://127.0.0.1:{port}", passwords
    server.stop()


async def connect(url: str, user: str, password: str, errors: list[str]) -> Client:
    """A connection as that service, with its own inbox prefix (as the services connect)."""

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(
        url, user=user, password=password, error_cb=on_error, inbox_prefix=inbox_prefix(NS, user)
    )


async def test_a_service_cannot_publish_another_services_events(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    insights = await connect(url, "insights", passwords["insights"], errors)
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    try:
        own = stream_name(NS, "insights")
        await insights.jetstream().add_stream(
            StreamConfig(name=own, subjects=[owner_events(NS, "insights")])
        )
        ack = await insights.jetstream().publish(
            event_subject(NS, "insights", "r1", "insight.flag_raised"), b"{}"
        )
        assert ack.seq == 1  # its own events: allowed

        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await checkin.jetstream().publish(
                event_subject(NS, "insights", "r1", "insight.flag_raised"), b"{}", timeout=1
            )
        with pytest.raises(Exception):  # noqa: B017 - the server refuses; the error type varies
            await checkin.jetstream().add_stream(
                StreamConfig(name=stream_name(NS, "scheduler"), subjects=["x.>"]), timeout=1
            )
        await checkin.subscribe(f"{NS}.cmd.gateway.anything")  # not its commands to take
        await checkin.flush()  # the server has judged everything sent before this round trip
        info = await insights.jetstream().stream_info(own)
    finally:
        await insights.close()
        await checkin.close()
    assert info.state.messages == 1  # nothing the checkin user sent got in
    assert any("permissions violation" in e.lower() for e in errors)


async def test_only_the_gateway_may_send_commands(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    scheduler = await connect(url, "scheduler", passwords["scheduler"], errors)
    gateway = await connect(url, "gateway", passwords["gateway"], errors)
    received: list[bytes] = []

    async def take(msg) -> None:
        received.append(msg.data)
        await msg.respond(b"ok")

    await checkin.subscribe(f"{NS}.cmd.checkin.log_checkin", cb=take)
    await checkin.flush()
    try:
        assert (
            await gateway.request(f"{NS}.cmd.checkin.log_checkin", b"g", timeout=2)
        ).data == b"ok"
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await scheduler.request(f"{NS}.cmd.checkin.log_checkin", b"s", timeout=1)
    finally:
        for client in (checkin, scheduler, gateway):
            await client.close()
    assert received == [b"g"]


async def test_a_service_may_erase_messages_from_its_own_stream_only(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    insights = await connect(url, "insights", passwords["insights"], errors)
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    own = stream_name(NS, "insights")
    try:
        js = insights.jetstream()
        await js.add_stream(StreamConfig(name=own, subjects=[owner_events(NS, "insights")]))
        for _ in range(2):
            await js.publish(event_subject(NS, "insights", "r1", "insight.flag_raised"), b"{}")
        found = await js.get_msg(
            own, 1, subject=relationship_events(NS, "insights", "r1"), next=True
        )
        assert found.seq is not None
        assert await js.delete_msg(own, found.seq)  # its own: allowed (erasure)
        with pytest.raises(Exception):  # noqa: B017 - refused; the error type varies
            await checkin.jetstream().delete_msg(own, 2)
        with pytest.raises(Exception):  # noqa: B017
            await checkin.jetstream().purge_stream(own)
        assert await js.purge_stream(own, subject=relationship_events(NS, "insights", "r1"))
        info = await js.stream_info(own)
    finally:
        await insights.close()
        await checkin.close()
    assert info.state.messages == 0


async def test_a_service_cannot_read_another_services_replies_or_use_its_consumers(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    gateway = await connect(url, "gateway", passwords["gateway"], errors)
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    insights = await connect(url, "insights", passwords["insights"], errors)
    overheard: list[bytes] = []

    async def answer(msg) -> None:
        await msg.respond(b"a decrypted note")

    async def overhear(msg) -> None:
        overheard.append(msg.data)

    gateway_stream = stream_name(NS, "gateway")
    checkins_consumer = durable_name("checkin", "membership", "gateway")
    try:
        await gateway.jetstream().add_stream(
            StreamConfig(name=gateway_stream, subjects=[owner_events(NS, "gateway")])
        )
        await gateway.jetstream().publish(f"{NS}.gateway.evt.r1.relationship.created", b"{}")
        # Its own consumer: checkin creates it, fetches from it and acknowledges.
        own = await checkin.jetstream().pull_subscribe(
            owner_events(NS, "gateway"), durable=checkins_consumer, stream=gateway_stream
        )
        fetched = await own.fetch(1, timeout=5)
        await fetched[0].ack()

        # Another's replies: insights may not listen on checkin's (or any other) inbox.
        await insights.subscribe(f"{inbox_prefix(NS, 'checkin')}.>", cb=overhear)
        await insights.subscribe("_INBOX.>", cb=overhear)
        await insights.flush()
        await checkin.subscribe(f"{NS}.qry.checkin.timeline", cb=answer)
        await checkin.flush()
        reply = await gateway.request(f"{NS}.qry.checkin.timeline", b"?", timeout=2)
        assert reply.data == b"a decrypted note"  # the gateway gets its answer...

        # ...and another's consumer: insights can neither read nor fetch from checkin's.
        js = insights.jetstream()
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.consumer_info(gateway_stream, checkins_consumer, timeout=1)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await insights.request(
                f"$JS.API.CONSUMER.MSG.NEXT.{gateway_stream}.{checkins_consumer}", b"1", timeout=1
            )
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await insights.request(f"$JS.API.CONSUMER.DELETE.{gateway_stream}.{checkins_consumer}",
                                   b"", timeout=1)  # fmt: skip
        await insights.flush()  # anything sent its way before now has arrived (none may)
        still_there = await checkin.jetstream().consumer_info(gateway_stream, checkins_consumer)
    finally:
        for client in (gateway, checkin, insights):
            await client.close()
    assert overheard == []
    assert still_there.name == checkins_consumer
    assert sum("permissions violation" in e.lower() for e in errors) >= 2


async def test_only_gateway_replicas_tell_one_another_what_to_forget(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    gateway = await connect(url, "gateway", passwords["gateway"], errors)
    other_gateway = await connect(url, "gateway", passwords["gateway"], errors)
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    heard: list[bytes] = []
    overheard: list[bytes] = []

    async def hear(msg) -> None:
        heard.append(msg.data)

    async def overhear(msg) -> None:
        overheard.append(msg.data)

    try:
        await other_gateway.subscribe(access_subject(NS), cb=hear)
        await checkin.subscribe(access_subject(NS), cb=overhear)  # not the gateway: refused
        await other_gateway.flush()
        await checkin.flush()
        await checkin.publish(access_subject(NS), b'{"tokens": ["forged"]}')  # refused
        await checkin.flush()
        await gateway.publish(access_subject(NS), b'{"tokens": ["d1"]}')
        await gateway.flush()

        def refused_twice() -> bool:
            return sum("permissions violation" in e.lower() for e in errors) >= 2

        await eventually(lambda: heard and refused_twice())
    finally:
        for client in (gateway, other_gateway, checkin):
            await client.close()
    assert heard == [b'{"tokens": ["d1"]}']  # the gateway's own, and nothing from checkin
    assert overheard == []
