"""A webhook attempt connects to the address it vetted, and no receiver can hold it forever
(real gateway, real MongoDB, real sockets on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from services.gateway import store
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.subjects import database_name
from tests.support.api import sign_up
from tests.support.gateway import http
from tests.support.receiver import Receiver
from tests.support.waiting import eventually


async def subscribe_and_deliver(
    client: Any, db: Any, app: Any, url: str, hook_state: dict[str, Any] | None = None
) -> str:
    """A webhook to `url` (its stored state changed by `hook_state`) and one delivery due
    now; returns the delivery's id."""
    person = await sign_up(client, "Hooked")
    rid = (await person.ok("POST", "/v1/relationships", {"name": "us"}))["id"]
    # Only check-ins: the relationship's own events (no check-in service runs here) stay out.
    hook = await person.ok("POST", f"/v1/relationships/{rid}/webhooks",
                           {"url": url, "event_types": ["checkin.logged"]})  # fmt: skip
    if hook_state:
        await store.set_webhook_state(db, hook["id"], hook_state)
    now = datetime.now(UTC)
    delivery_id = f"{hook['id']}-e1"
    await db[store.DELIVERIES].insert_one({
        "_id": delivery_id, "webhook_id": hook["id"], "event_id": "e1", "type": "checkin.logged",
        "order": f"{now.isoformat()}|e1", "status": "pending", "attempts": [],
        "body": '{"subject": "e1"}', "next_attempt_at": now, "created_at": now,
    })  # fmt: skip
    app.state.deliveries.wake.now()
    return delivery_id


async def attempted(db: Any, delivery_id: str) -> dict[str, Any] | None:
    found = await db[store.DELIVERIES].find_one({"_id": delivery_id})
    return found if found and found["attempts"] else None


async def test_a_host_rebinding_to_a_private_address_after_the_check_is_never_reached(
    make_settings, nats_client, mongo, namespace, monkeypatch
):
    vetted = Receiver().start()  # stands for the public address the check approved
    assert vetted.server is not None
    port = vetted.server.server_address[1]
    private = Receiver(host="127.0.0.2", port=port).start()  # where the name points next
    real = socket.getaddrinfo
    lookups: list[Any] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            lookups.append(port)
            # The check asks without a port and gets the approved address; a connection
            # (which asks with its port) would be sent to the private one.
            return real("127.0.0.1" if port is None else "127.0.0.2", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    app = create_app(make_settings(GatewaySettings, webhook_allow_loopback_http=True))
    db = mongo[database_name(namespace, "gateway")]
    try:
        async with http(app) as client:
            delivery = await subscribe_and_deliver(
                client, db, app, f"http://rebind.test:{port}/hook"
            )
            done = await eventually(lambda: attempted(db, delivery), timeout=20)
    finally:
        vetted.stop()
        private.stop()
    assert private.attempts == 0, lookups
    assert done["status"] == "delivered"
    assert [r.headers["Host"] for r in vetted.received] == [f"rebind.test:{port}"]


@contextlib.asynccontextmanager
async def endless_receiver(
    serve: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            await serve(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.close()


async def trickle_headers(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for n in range(100_000):  # a header line every 50 ms: no single read ever times out
        writer.write(f"X-Slow-{n}: a\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.05)


async def stream_body(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True:  # a body without end
        writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("serve", "outcome"), [(trickle_headers, "TimeoutError"), (stream_body, 200)]
)
async def test_a_receiver_streaming_forever_is_cut_off(
    make_settings, nats_client, mongo, namespace, serve, outcome
):
    app = create_app(
        make_settings(GatewaySettings, webhook_allow_loopback_http=True,
                      webhook_timeout_seconds=1)
    )  # fmt: skip
    db = mongo[database_name(namespace, "gateway")]
    async with endless_receiver(serve) as url, http(app) as client:
        delivery = await subscribe_and_deliver(client, db, app, url)
        done = await eventually(lambda: attempted(db, delivery), timeout=20)
    attempt = done["attempts"][0]
    assert attempt.get("error", attempt.get("status_code")) == outcome
    assert attempt["latency_ms"] < 5000


async def test_a_delivery_taken_clears_its_endpoints_run_of_failures(
    make_settings, nats_client, mongo, namespace
):
    receiver = Receiver().start()
    app = create_app(make_settings(GatewaySettings, webhook_allow_loopback_http=True))
    db = mongo[database_name(namespace, "gateway")]
    try:
        async with http(app) as client:
            delivery = await subscribe_and_deliver(
                client, db, app, receiver.url, hook_state={"failing_in_a_row": 2}
            )
            done = await eventually(lambda: attempted(db, delivery), timeout=20)
    finally:
        receiver.stop()
    assert done["status"] == "delivered"
    hook = await db[store.WEBHOOKS].find_one({"_id": done["webhook_id"]})
    assert hook["failing_in_a_row"] == 0
