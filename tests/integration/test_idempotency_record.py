"""The gateway's Idempotency-Key record against a real MongoDB: the answer leaves only once
the key is recorded, so a retry sent the moment the answer arrives is a replay."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import store
from services.gateway.auth import token_digest
from services.gateway.deps import Caller
from services.gateway.middleware import Idempotency
from shared.subjects import database_name

ROUTES: list[BaseRoute] = [
    Route("/v1/relationships/{rid}/checkins", lambda request: None, methods=["POST"])
]


async def member_1(scope: Scope, token: str) -> Caller:
    return Caller("m1", token_digest(token))


def idempotency(app: ASGIApp, db: Any) -> Idempotency:
    return Idempotency(app, db=lambda: db, routes=lambda: ROUTES, authenticate=member_1)


def request(key: bytes) -> Scope:
    return {
        "type": "http", "method": "POST", "path": "/v1/relationships/r1/checkins",
        "headers": [(b"idempotency-key", key), (b"authorization", b"Bearer token-1")],
        "state": {"body": b'{"mood": 3}'},
    }  # fmt: skip


async def nothing_more() -> Message:
    return {"type": "http.disconnect"}


async def test_the_answer_leaves_only_after_the_key_is_recorded(mongo: Any, namespace: str):
    db = mongo[database_name(namespace, "gateway")]

    async def created(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"id": "e1"}', "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    states_when_sent: list[str | None] = []
    sent: list[Message] = []

    async def client(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            record = await db[store.IDEMPOTENCY].find_one({})
            states_when_sent.append(record["state"] if record else None)

    await idempotency(created, db)(request(b"k1"), nothing_more, client)

    assert states_when_sent == ["done"]
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 2
    replayed: list[Message] = []

    async def retry(message: Message) -> None:
        replayed.append(message)

    await idempotency(created, db)(request(b"k1"), nothing_more, retry)
    assert replayed[0]["status"] == 201
    assert (b"idempotent-replayed", b"true") in replayed[0]["headers"]
    assert replayed[1]["body"] == b'{"id": "e1"}'


async def test_a_request_that_dies_half_way_frees_its_key(mongo: Any, namespace: str):
    db = mongo[database_name(namespace, "gateway")]

    async def dies(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        raise ConnectionError("the service went away")

    async def client(message: Message) -> None:
        pass

    with pytest.raises(ConnectionError):
        await idempotency(dies, db)(request(b"k2"), nothing_more, client)
    assert await db[store.IDEMPOTENCY].count_documents({}) == 0
