"""Correlation ids: one per request, in every log line and echoed to the caller."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.middleware.headers import header
from shared.envelope import new_id
from shared.logging import bind_context


class Correlation:
    """Take X-Correlation-Id from the caller (or make one), log with it, echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-correlation-id")
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
