"""Least privilege on the bus: a service cannot publish another's events or take its commands."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig

from deploy.embedded import free_port, start_nats
from deploy.nats_auth import write_embedded_config
from shared.subjects import event_subject, stream_name

NS = "attune"


@pytest.fixture
def secured_nats(tmp_path):
    port = free_port()
    config, passwords = write_embedded_config(tmp_path, NS, port, tmp_path / "store")
    server = start_nats(port, tmp_path / "store", tmp_path / "nats.log", config=config)
    yield f"nats://127.0.0.1:{port}", passwords
    server.stop()


async def connect(url: str, user: str, password: str, errors: list[str]) -> Client:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(url, user=user, password=password, error_cb=on_error)


async def test_a_service_cannot_publish_another_services_events(secured_nats):
    url, passwords = secured_nats
    errors: list[str] = []
    insights = await connect(url, "insights", passwords["insights"], errors)
    checkin = await connect(url, "checkin", passwords["checkin"], errors)
    try:
        own = stream_name(NS, "insights")
        await insights.jetstream().add_stream(
            StreamConfig(name=own, subjects=[f"{NS}.insights.evt.>"])
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
        await asyncio.sleep(0.5)
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
        await js.add_stream(StreamConfig(name=own, subjects=[f"{NS}.insights.evt.>"]))
        for _ in range(2):
            await js.publish(event_subject(NS, "insights", "r1", "insight.flag_raised"), b"{}")
        found = await js.get_msg(own, 1, subject=f"{NS}.insights.evt.r1.>", next=True)
        assert found.seq is not None
        assert await js.delete_msg(own, found.seq)  # its own: allowed (erasure)
        with pytest.raises(Exception):  # noqa: B017 - refused; the error type varies
            await checkin.jetstream().delete_msg(own, 2)
        with pytest.raises(Exception):  # noqa: B017
            await checkin.jetstream().purge_stream(own)
        assert await js.purge_stream(own, subject=f"{NS}.insights.evt.r1.>")
        info = await js.stream_info(own)
    finally:
        await insights.close()
        await checkin.close()
    assert info.state.messages == 0
