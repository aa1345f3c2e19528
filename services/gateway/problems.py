"""Every error the gateway returns is RFC 9457 problem+json with a stable code.

One renderer, `problem_response`, writes them all: the exception handlers answer through it,
and the ASGI middleware (which refuses requests before any route or handler runs) sends the
same response through `send_error`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.types import Message, Scope, Send

from shared.logging import failure, get_logger
from shared.problems import PROBLEM_TYPE_BASE, AttuneError

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# What a client may wait before retrying when the error does not say.
DEFAULT_RETRY_AFTER = 2

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "service_unavailable",
}


class PayloadTooLarge(AttuneError):
    """Only the edge refuses a body for its size; no service ever sees it."""

    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(AttuneError):
    status = 415
    default_code = "unsupported_media_type"


def problem_response(
    status: int, code: str, detail: str, instance: str, **extra: object
) -> JSONResponse:
    """The problem+json response. `Retry-After` goes with every answer that says when to
    retry, and with every 429 and 503 (which always may be retried)."""
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    headers = {}
    retry_after = extra.get("retry_after")
    if retry_after is not None or status in (429, 503):
        headers["Retry-After"] = str(DEFAULT_RETRY_AFTER if retry_after is None else retry_after)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_response(error: AttuneError, instance: str) -> JSONResponse:
    extra: dict[str, object] = {}
    if error.field:
        extra["field"] = error.field
    if error.retry_after is not None:
        extra["retry_after"] = error.retry_after
    return problem_response(error.status, error.code, error.message, instance, **extra)


async def send_error(scope: Scope, send: Send, error: AttuneError) -> None:
    """`error_response` from ASGI middleware: the same body and headers a route's error gets."""
    await error_response(error, URL(scope=scope).path)(scope, _nothing_to_read, send)


async def _nothing_to_read() -> Message:
    # A response that is all written at once never reads the request.
    return {"type": "http.disconnect"}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(AttuneError)
    async def on_attune_error(request: Request, exc: AttuneError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return problem_response(exc.status_code, code, str(exc.detail), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in error["loc"] if p != "body"),
                "message": error["msg"],
            }
            for error in exc.errors()[:20]
        ]
        first = errors[0]["field"] if errors else None
        return problem_response(
            422,
            "invalid_input",
            "Some fields are not valid.",
            request.url.path,
            field=first,
            errors=errors,
        )

    @app.exception_handler(ValidationError)
    async def on_model_error(request: Request, exc: ValidationError) -> JSONResponse:
        # A command built from path and body values the route accepted, refused by its model.
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return problem_response(422, "invalid_input", first["msg"], request.url.path, field=field)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never a bare 500 with a stack trace: log the type, answer a retryable 503.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        log.error("unhandled_error", route=route, **failure(exc))
        return problem_response(
            503,
            "service_unavailable",
            "Something went wrong on our side; try again shortly.",
            request.url.path,
            retry_after=DEFAULT_RETRY_AFTER,
        )
