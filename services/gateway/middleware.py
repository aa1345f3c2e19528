"""Edge middleware: body size limit, JSON-only bodies, correlation ids, Idempotency-Key replay,
request metrics.

All pure ASGI, so streaming responses (the live stream) pass through untouched.
"""

from __future__ import annotations

import base64
import contextlib
import email.message
import hashlib
import hmac
import json
import math
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import store
from services.gateway.auth import token_digest
from services.gateway.deps import Caller, verified_caller
from shared.envelope import new_id
from shared.logging import bind_context, failure, get_logger
from shared.mongo import Database
from shared.problems import PROBLEM_TYPE_BASE, AttuneError

log = get_logger(__name__)

REQUESTS = Counter(
    "attune_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram("attune_http_request_seconds", "HTTP request latency", ["method", "route"])

# A claim older than this belongs to a request that died half way; a retry may take it over
# (the command id downstream is derived from the same key, so nothing is done twice).
ABANDONED_AFTER = timedelta(seconds=30)
# A route answering a repeated command sets this in the request's state.
REPLAYED = "idempotent_replayed"
REPLAYED_HEADER = (b"idempotent-replayed", b"true")


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


# The deepest body we take has a few levels (a boundary's window and its days); this leaves room
# to grow while keeping every parser and model far from its recursion limit.
JSON_DEPTH_MAX = 32


class JsonBody:
    """A body is UTF-8 JSON that every store can hold, or nothing: 415 or 422 before any route.

    Without this, FastAPI judges a body of any content type (or none) as raw bytes against the
    model, reads UTF-16 and a BOM, answers 400 for invalid UTF-8, over-long integers and deep
    nesting (its parser's RecursionError), keeps the last of duplicate keys (another parser may
    keep the first), and stores NUL, which truncates text in C-string consumers. The body is
    parsed once more here to judge it; it is at most max_body_bytes.
    """

    def __init__(self, app: ASGIApp, max_depth: int = JSON_DEPTH_MAX) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = scope.get("state", {}).get("body", b"") if scope["type"] == "http" else b""
        if not body:
            await self.app(scope, receive, send)
            return
        encoding = (_header(scope, b"content-encoding") or "identity").strip().lower()
        if not _is_utf8_json(_header(scope, b"content-type")) or encoding != "identity":
            await _problem(
                send, 415, "unsupported_media_type",
                "send bodies as application/json in UTF-8 (no other charset, not compressed)",
            )  # fmt: skip
            return
        refusal = _json_refusal(body, self.max_depth)
        if refusal is not None:
            await _problem(send, 422, "invalid_json", refusal)
            return
        await self.app(scope, receive, send)


def _is_utf8_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    if parsed.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        return False
    charset = parsed.get_param("charset")
    return charset is None or (isinstance(charset, str) and charset.lower() in ("utf-8", "utf8"))


class _Refused(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Which of two values counts would depend on the parser reading it; refuse both.
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Refused("an object has the same key twice")
    return found


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity, which JSON cannot send back
        raise _Refused("numbers must be finite")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _json_refusal(body: bytes, max_depth: int) -> str | None:
    """Why this body is refused, or None when it is fine."""
    try:
        text = body.decode("utf-8")  # strict: overlong forms and encoded surrogates fail here
    except UnicodeDecodeError:
        return "the body is not valid UTF-8"
    try:
        value = json.loads(
            text, object_pairs_hook=_unique, parse_float=_finite, parse_constant=_constant
        )
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return f"the body is nested more than {max_depth} levels deep"
    except json.JSONDecodeError as exc:
        return f"the body is not valid JSON ({exc.msg} at position {exc.pos})"
    except ValueError:  # an integer of more digits than Python converts
        return "a number is too long"
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return "text must be Unicode without NUL or lone surrogates"
        elif isinstance(item, list | dict):
            if depth > max_depth:
                return f"the body is nested more than {max_depth} levels deep"
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")  # a lone surrogate from a \ud800 escape cannot be
    except UnicodeEncodeError:
        return False
    return True


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


Authenticate = Callable[[Scope, str], Awaitable[Caller | None]]


async def _verified_caller(scope: Scope, token: str) -> Caller | None:
    return await verified_caller(Request(scope), token)


class Idempotency:
    """A POST with Idempotency-Key from a signed-in member is answered once; the same member's
    repeat gets the first response.

    Only a valid token on a real route holds a key: anonymous requests, unknown routes and
    revoked tokens pass straight on (and get their 401 or 404), so nobody can fill the store
    with records, and nothing recorded is ever replayed to a token that no longer works.

    Paths matching `answered_downstream` (the facts) are answered once by the service that
    records them: their command id is derived from the key and the command's own document
    replays the first answer, so nothing is recorded here; the reply says when it repeats.
    """

    def __init__(
        self,
        app: ASGIApp,
        db: Callable[[], Database],
        routes: Callable[[], Sequence[BaseRoute]],
        abandoned_after: timedelta = ABANDONED_AFTER,
        authenticate: Authenticate | None = None,
        answered_downstream: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        self.db = db
        self.routes = routes
        self.abandoned_after = abandoned_after
        self.authenticate = authenticate or _verified_caller
        self.answered_downstream = tuple(answered_downstream)

    def _real_route(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes())

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
        if any(pattern.match(scope["path"]) for pattern in self.answered_downstream):
            await self.app(scope, receive, _tell_replayed(scope, send))
            return
        token = _bearer(_header(scope, b"authorization"))
        if token is None or not self._real_route(scope):
            await self.app(scope, receive, send)
            return
        try:
            caller = await self.authenticate(scope, token)
        except AttuneError as exc:
            await _problem(send, exc.status, exc.code, exc.message, exc.retry_after)
            return
        # The route's own authentication takes this answer instead of asking again.
        scope.setdefault("state", {})["caller"] = caller
        scope["state"]["checked_token"] = token_digest(token)
        if caller is None:
            await self.app(scope, receive, send)
            return
        record_id = hashlib.sha256(
            f"{caller.member_id}:{caller.token_digest}:{key}".encode()
        ).hexdigest()
        body = scope.get("state", {}).get("body", b"")
        # Keyed by the caller's token, which no one keeps: the stored fingerprint of a small
        # body (a mood, a score) cannot be matched against guesses.
        fingerprint = hmac.new(
            _replay_key(scope), scope["path"].encode() + b"\n" + body, hashlib.sha256
        ).hexdigest()
        db = self.db()
        now = datetime.now(UTC)
        existing = await store.claim_idempotency_key(
            db, record_id, fingerprint, now, caller.token_digest
        )
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
                    await self._record(scope, db, record_id, captured)
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
    async def _record(scope: Scope, db: Database, record_id: str, captured: dict[str, Any]) -> None:
        status = captured["status"]
        try:
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
        except Exception as exc:
            # The answer is still true; a retry finds the key pending, waits until it counts
            # as abandoned, then runs the same command id downstream, which answers as before.
            log.warning("idempotency_record_failed", **failure(exc))

    @staticmethod
    async def _replay(send: Send, response: dict[str, Any], scope: Scope) -> None:
        body = _open(scope, response["body"])
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
