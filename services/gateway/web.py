"""The reference web app: static files from `web/` at /app/, with a strict CSP.

The app talks only to the public API on the same origin, so its policy allows `self` and
nothing else: no inline script or style, no third-party origin, no framing. Files carry no
content hash in their names, so browsers revalidate them (ETag) instead of caching blindly.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MOUNT = "/app"
REPOSITORY_WEB = Path(__file__).resolve().parents[2] / "web"

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"cache-control", b"no-cache"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class AppHeaders:
    """Adds the app's security and caching headers to every response under the mount."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def mount(app: FastAPI, directory: Path | None) -> None:
    """Serve the app at /app/ when its files are present (a bare API deployment has none)."""
    directory = directory or REPOSITORY_WEB
    if not (directory / "index.html").is_file():
        return

    @app.get(MOUNT, include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse(f"{MOUNT}/", status_code=308)

    app.mount(MOUNT, AppHeaders(StaticFiles(directory=directory, html=True)), name="web")
