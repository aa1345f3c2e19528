"""Typed errors shared by services and the gateway, which answers them as RFC 9457
problem+json."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

PROBLEM_TYPE_BASE = "https://attune.dev/problems/"


class ErrorBody(BaseModel):
    """An error as it crosses NATS: a stable code, an HTTP status and a readable message."""

    code: str
    status: int
    message: str
    field: str | None = None
    retry_after: int | None = None


class AttuneError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.retry_after = retry_after

    def to_body(self) -> ErrorBody:
        return ErrorBody(
            code=self.code,
            status=self.status,
            message=self.message,
            field=self.field,
            retry_after=self.retry_after,
        )

    @staticmethod
    def from_body(body: ErrorBody) -> AttuneError:
        cls = _BY_STATUS.get(body.status, AttuneError)
        return cls(body.message, code=body.code, field=body.field, retry_after=body.retry_after)


class InvalidInput(AttuneError):
    status = 422
    default_code = "invalid_input"


class NotFound(AttuneError):
    status = 404
    default_code = "not_found"


class Forbidden(AttuneError):
    status = 403
    default_code = "forbidden"


class Conflict(AttuneError):
    status = 409
    default_code = "conflict"


class Unavailable(AttuneError):
    status = 503
    default_code = "service_unavailable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 2, **kw: Any):
        super().__init__(message, code=code, retry_after=retry_after, **kw)


class Unauthorized(AttuneError):
    status = 401
    default_code = "unauthorized"


class TooManyRequests(AttuneError):
    status = 429
    default_code = "too_many_requests"


class InternalError(AttuneError):
    status = 500
    default_code = "internal_error"


_BY_STATUS: dict[int, type[AttuneError]] = {
    cls.status: cls
    for cls in (
        InvalidInput,
        NotFound,
        Forbidden,
        Conflict,
        Unavailable,
        InternalError,
        Unauthorized,
        TooManyRequests,
    )
}
