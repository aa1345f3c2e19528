"""Idempotency-Key: a signed-in member's repeated POST gets the first answer."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import store
from services.gateway.auth import token_digest
from services.gateway.deps import Caller, verified_caller
from services.gateway.idempotency_keys import answer_key, request_id
from services.gateway.middleware.headers import header
from services.gateway.problems import send_error
from shared.logging import failure, get_logger
from shared.mongo import Database
from shared.problems import AttuneError, Conflict, InvalidInput

log = get_logger(__name__)

# A claim older than this belongs to a request that died half way; a retry may take it over
# (the command id downstream is derived from the same key, so nothing is done twice).
ABANDONED_AFTER = timedelta(seconds=30)
# A route answering a repeated command sets this in the request's state.
REPLAYED = "idempotent_replayed"
REPLAYED_HEADER = (b"idempotent-replayed", b"true")

Authenticate = Callable[[Scope, str], Awaitable[Caller | None]]


async def _verified_caller(scope: Scope, token: str) -> Caller | None:
    return await verified_caller(Request(scope), token)


class Idempotency:
    """A POST with Idempotency-Key from a signed-in member is answered once; the same member's
    repeat on the same route gets the first response, whichever of their tokens it carries.

    Only a valid token on a real route holds a key: anonymous requests, unknown routes and
    revoked tokens pass straight on (and get their 401 or 404), so nobody can fill the store
    with records, and nothing recorded is ever replayed to a token that no longer works.

    Paths matching `answered_downstream` (the facts) are answered once by the service that
    records them: their command id is derived from the key and the command's own document
    replays the first answer, so nothing is recorded here; the reply says when it repeats.

    `secret` is the gateway's own key, mixed into the key that seals each recorded answer, so
    the records alone never open.
    """

    def __init__(
        self,
        app: ASGIApp,
        db: Callable[[], Database],
        routes: Callable[[], Sequence[BaseRoute]],
        secret: bytes,
        abandoned_after: timedelta = ABANDONED_AFTER,
        authenticate: Authenticate | None = None,
        answered_downstream: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        self.db = db
        self.routes = routes
        self.secret = secret
        self.abandoned_after = abandoned_after
        self.authenticate = authenticate or _verified_caller
        self.answered_downstream = tuple(answered_downstream)

    def _real_route(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not (1 <= len(key) <= 255) or not key.isascii():
            await send_error(scope, send, InvalidInput(
                "Idempotency-Key must be 1-255 ASCII characters", code="invalid_idempotency_key"
            ))  # fmt: skip
            return
        if any(pattern.match(scope["path"]) for pattern in self.answered_downstream):
            await self.app(scope, receive, _tell_replayed(scope, send))
            return
        token = _bearer(header(scope, b"authorization"))
        if token is None or not self._real_route(scope):
            await self.app(scope, receive, send)
            return
        try:
            caller = await self.authenticate(scope, token)
        except AttuneError as exc:
            await send_error(scope, send, exc)
            return
        # The route's own authentication takes this answer instead of asking again.
        scope.setdefault("state", {})["caller"] = caller
        scope["state"]["checked_token"] = token_digest(token)
        if caller is None:
            await self.app(scope, receive, send)
            return
        named = (caller.member_id, scope["method"], scope["path"], key)
        record_id = request_id(*named)
        sealing = answer_key(self.secret, *named)
        body = scope.get("state", {}).get("body", b"")
        # Under the sealing key: the stored fingerprint of a small body (a mood, a score)
        # cannot be matched against guesses.
        fingerprint = hmac.new(
            sealing, scope["path"].encode() + b"\n" + body, hashlib.sha256
        ).hexdigest()
        db = self.db()
        now = datetime.now(UTC)
        existing = await store.claim_idempotency_key(
            db, record_id, fingerprint, now, caller.member_id
        )
        if existing is not None:
            if existing["fingerprint"] != fingerprint:
                await send_error(scope, send, Conflict(
                    "this Idempotency-Key was used for a different request",
                    code="idempotency_key_reused",
                ))  # fmt: skip
                return
            if existing["state"] == "done":
                await self._replay(send, existing["response"], sealing)
                return
            created = existing.get("created_at")
            if created is None or now - created.replace(tzinfo=UTC) < self.abandoned_after:
                await send_error(scope, send, Conflict(
                    "the first request with this key is still running",
                    code="request_in_progress", retry_after=1,
                ))  # fmt: skip
                return
        await self._forward(scope, receive, send, db, record_id, sealing)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        db: Database,
        record_id: str,
        sealing: bytes,
    ) -> None:
        # The response is held until its outcome is recorded: a client that retries the
        # moment it has its answer must find the key done, not still in progress.
        held: list[Message] = []
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b"", "recorded": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    captured["recorded"] = True
                    await self._record(db, record_id, sealing, captured)
                    for earlier in held:
                        await send(earlier)
                    held.clear()
                    await send(message)
                    return
            else:
                await send(message)
                return
            held.append(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not captured["recorded"]:  # the request died half way: a retry may run it
                with contextlib.suppress(Exception):
                    await store.release_idempotency_key(db, record_id)

    @staticmethod
    async def _record(
        db: Database, record_id: str, sealing: bytes, captured: dict[str, Any]
    ) -> None:
        status = captured["status"]
        try:
            if status < 500 and status not in (401, 429):
                headers = [
                    (k, v)
                    for k, v in captured["headers"]
                    if k.lower() in ("content-type", "location")
                ]
                # The stored copy is sealed with a key only the client's own retry can rebuild
                # (with its Idempotency-Key), so the record holds no member text.
                response = {"status": status, "headers": headers,
                            "body": _seal(sealing, captured["body"])}  # fmt: skip
                await store.complete_idempotency_key(db, record_id, response)
            else:  # a failure that a retry may fix: let the key be used again
                await store.release_idempotency_key(db, record_id)
        except Exception as exc:
            # The answer is still true; a retry finds the key pending, waits until it counts
            # as abandoned, then runs the same command id downstream, which answers as before.
            log.warning("idempotency_record_failed", **failure(exc))

    @staticmethod
    async def _replay(send: Send, response: dict[str, Any], sealing: bytes) -> None:
        body = _open(sealing, response["body"])
        headers = [(k.encode(), v.encode()) for k, v in response["headers"]]
        headers += [(b"content-length", str(len(body)).encode()), REPLAYED_HEADER]
        await send(
            {"type": "http.response.start", "status": response["status"], "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _tell_replayed(scope: Scope, send: Send) -> Send:
    """Add `Idempotent-Replayed: true` when the route marked its answer as a repeat."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and scope.get("state", {}).get(REPLAYED):
            message = {**message, "headers": [*message.get("headers", []), REPLAYED_HEADER]}
        await send(message)

    return sending


def _seal(key: bytes, body: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, body, None)
    return base64.b64encode(nonce + sealed).decode()


def _open(key: bytes, stored: str) -> bytes:
    raw = base64.b64decode(stored)
    return AESGCM(key).decrypt(raw[:12], raw[12:], None)
