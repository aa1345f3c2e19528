"""Every error the gateway returns is RFC 9457 problem+json with a stable code."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from shared.logging import failure, get_logger
from shared.problems import PROBLEM_TYPE_BASE, AttuneError

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

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


def problem_response(
    status: int, code: str, detail: str, instance: str, **extra: object
) -> JSONResponse:
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
    if status in (429, 503):
        headers["Retry-After"] = str(extra.get("retry_after", 2))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(AttuneError)
    async def on_attune_error(request: Request, exc: AttuneError) -> JSONResponse:
        extra: dict[str, object] = {}
        if exc.field:
            extra["field"] = exc.field
        if exc.retry_after is not None:
            extra["retry_after"] = exc.retry_after
        return problem_response(exc.status, exc.code, exc.message, request.url.path, **extra)

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
            retry_after=2,
        )
