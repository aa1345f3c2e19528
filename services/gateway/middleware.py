"""Edge middleware: body size limit, correlation ids, Idempotency-Key replay, request metrics.

All pure ASGI, so streaming responses (the live stream) pass through untouched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import store
from services.gateway.auth import token_digest
from shared.envelope import new_id
from shared.logging import bind_context
from shared.mongo import Database
from shared.problems import PROBLEM_TYPE_BASE

REQUESTS = Counter(
    "attune_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram("attune_http_request_seconds", "HTTP request latency", ["method", "route"])

# A claim older than this belongs to a request that died half way; a retry may take it over
# (the command id downstream is derived from the same key, so nothing is done twice).
ABANDONED_AFTER = timedelta(seconds=30)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _problem(
    send: Send, status: int, code: str, detail: str, retry_after: int | None = None
) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": code.replace("_", " ").capitalize(),
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Reject bodies over the limit with 413 before any route reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await _problem(
                send, 413, "payload_too_large", f"bodies are limited to {self.max_bytes} bytes"
            )
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _problem(
                    send, 413, "payload_too_large", f"bodies are limited to {self.max_bytes} bytes"
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        scope.setdefault("state", {})["body"] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class Correlation:
    """Take X-Correlation-Id from the caller (or make one), log with it, echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-correlation-id")
        correlation = given if given and len(given) <= 64 and given.isascii() else new_id()
        scope.setdefault("state", {})["correlation_id"] = correlation

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", correlation.encode()),
                ]
            await send(message)

        with bind_context(correlation_id=correlation):
            await self.app(scope, receive, send_with_id)


class Idempotency:
    """A POST with Idempotency-Key is answered once; a repeat gets the first response."""

    def __init__(
        self,
        app: ASGIApp,
        db: Callable[[], Database],
        abandoned_after: timedelta = ABANDONED_AFTER,
    ) -> None:
        self.app = app
        self.db = db
        self.abandoned_after = abandoned_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not (1 <= len(key) <= 255) or not key.isascii():
            await _problem(
                send,
                422,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 ASCII characters",
            )
            return
        authorization = _header(scope, b"authorization") or ""
        scope_key = token_digest(authorization) if authorization else "anonymous"
        record_id = hashlib.sha256(f"{scope_key}:{key}".encode()).hexdigest()
        body = scope.get("state", {}).get("body", b"")
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        db = self.db()
        now = datetime.now(UTC)
        existing = await store.claim_idempotency_key(db, record_id, fingerprint, now)
        if existing is not None:
            if existing["fingerprint"] != fingerprint:
                await _problem(
                    send,
                    409,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                )
                return
            if existing["state"] == "done":
                await self._replay(send, existing["response"], scope)
                return
            created = existing.get("created_at")
            if created is None or now - created.replace(tzinfo=UTC) < self.abandoned_after:
                await _problem(
                    send,
                    409,
                    "request_in_progress",
                    "the first request with this key is still running",
                    retry_after=1,
                )
                return
        await self._forward(scope, receive, send, db, record_id)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, db: Database, record_id: str
    ) -> None:
        captured: dict[str, Any] = {"body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            status = captured.get("status", 500)
            if status < 500 and status not in (401, 429):
                headers = [
                    (k, v)
                    for k, v in captured["headers"]
                    if k.lower() in ("content-type", "location")
                ]
                # The stored copy is sealed with a key only the client's own retry can
                # rebuild (its token and Idempotency-Key), so the record holds no member text.
                response = {"status": status, "headers": headers,
                            "body": _seal(scope, captured["body"])}  # fmt: skip
                await store.complete_idempotency_key(db, record_id, response)
            else:  # a failure that a retry may fix: let the key be used again
                await store.release_idempotency_key(db, record_id)

    @staticmethod
    async def _replay(send: Send, response: dict[str, Any], scope: Scope) -> None:
        body = _open(scope, response["body"])
        headers = [(k.encode(), v.encode()) for k, v in response["headers"]]
        headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        await send(
            {"type": "http.response.start", "status": response["status"], "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


def _replay_key(scope: Scope) -> bytes:
    secret = (
        (_header(scope, b"authorization") or "") + "\0" + (_header(scope, b"idempotency-key") or "")
    )
    return hashlib.sha256(b"attune-idempotent-response\0" + secret.encode()).digest()


def _seal(scope: Scope, body: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_replay_key(scope)).encrypt(nonce, body, None)
    return base64.b64encode(nonce + sealed).decode()


def _open(scope: Scope, stored: str) -> bytes:
    raw = base64.b64decode(stored)
    return AESGCM(_replay_key(scope)).decrypt(raw[:12], raw[12:], None)


class Metrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)
