"""The gateway's Idempotency-Key record against a real MongoDB: the answer leaves only once
the key is recorded, so a retry sent the moment the answer arrives is a replay; the record
belongs to the member, so a retry with a new token is a replay too, and another member's
request with the same key is their own."""

from __future__ import annotations

import base64
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


# token-1 and token-2 are two sessions of m1 (signed in twice); token-3 is m2's.
MEMBER_OF_TOKEN = {"token-1": "m1", "token-2": "m1", "token-3": "m2"}


async def member_of(scope: Scope, token: str) -> Caller:
    return Caller(MEMBER_OF_TOKEN[token], token_digest(token))


def idempotency(app: ASGIApp, db: Any) -> Idempotency:
    return Idempotency(app, db=lambda: db, routes=lambda: ROUTES, secret=b"gateway-secret",
                       authenticate=member_of)  # fmt: skip


def request(key: bytes, token: bytes = b"token-1") -> Scope:
    return {
        "type": "http", "method": "POST", "path": "/v1/relationships/r1/checkins",
        "headers": [(b"idempotency-key", key), (b"authorization", b"Bearer " + token)],
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


async def test_a_retry_with_a_new_token_of_the_same_member_is_a_replay(mongo: Any, namespace: str):
    db = mongo[f"{namespace}_gateway"]
    runs: list[str] = []

    async def created(scope: Scope, receive: Receive, send: Send) -> None:
        runs.append(scope["state"]["caller"].member_id)
        body = f'{{"id": "e{len(runs)}"}}'.encode()
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    answers: dict[bytes, list[Message]] = {b"token-1": [], b"token-2": [], b"token-3": []}
    for token in (b"token-1", b"token-2", b"token-3"):
        await idempotency(created, db)(request(b"k3", token), nothing_more,
                                       _collect(answers[token]))  # fmt: skip

    first, after_signing_in_again, other_member = answers.values()
    assert runs == ["m1", "m2"]  # m1's retry ran nothing; m2's own request ran
    assert (b"idempotent-replayed", b"true") in after_signing_in_again[0]["headers"]
    assert after_signing_in_again[1]["body"] == first[1]["body"] == b'{"id": "e1"}'
    assert (b"idempotent-replayed", b"true") not in other_member[0]["headers"]
    assert other_member[1]["body"] == b'{"id": "e2"}'
    records = await db[store.IDEMPOTENCY].find({}).to_list()
    assert sorted(r["scope"] for r in records) == ["m1", "m2"]  # what an erasure deletes by
    # The answers are kept sealed: the records alone do not show them.
    assert not any(b'"id"' in base64.b64decode(r["response"]["body"]) for r in records)
    # Erasing m1 takes their records, whichever token made them, and leaves m2's.
    async with mongo.start_session() as session:
        await store.delete_member(db, session, "m1")
    assert [r["scope"] for r in await db[store.IDEMPOTENCY].find({}).to_list()] == ["m2"]


def _collect(into: list[Message]) -> Send:
    async def send(message: Message) -> None:
        into.append(message)

    return send
