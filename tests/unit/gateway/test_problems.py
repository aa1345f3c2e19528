"""One problem+json renderer: a middleware's refusal is the same response a route's error is."""

from __future__ import annotations

import json

from starlette.types import Message, Scope

from services.gateway.problems import (
    PayloadTooLarge,
    error_response,
    problem_response,
    send_error,
)
from shared.problems import (
    AttuneError,
    Conflict,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unavailable,
)

PATH = "/v1/relationships/r1/checkins"


def scope() -> Scope:
    return {"type": "http", "method": "POST", "path": PATH, "headers": [(b"host", b"gateway")]}


async def sent(error: AttuneError) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    await send_error(scope(), send, error)
    return messages


async def test_a_middleware_sends_exactly_what_a_route_answers() -> None:
    for error in (
        PayloadTooLarge("bodies are limited to 10 bytes"),
        InvalidInput("the body is not valid UTF-8", code="invalid_json"),
        Conflict("still running", code="request_in_progress", retry_after=1),
        TooManyRequests("slow down a little", retry_after=3),
    ):
        start, body = await sent(error)
        response = error_response(error, PATH)
        assert start == {"type": "http.response.start", "status": response.status_code,
                         "headers": response.raw_headers}  # fmt: skip
        assert body == {"type": "http.response.body", "body": response.body}


def test_the_body_names_type_title_status_detail_code_field_and_instance() -> None:
    response = error_response(InvalidInput("too high", field="mood"), PATH)
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(bytes(response.body)) == {
        "type": "https://attune.dev/problems/invalid_input",
        "title": "Invalid input",
        "status": 422,
        "detail": "too high",
        "code": "invalid_input",
        "instance": PATH,
        "field": "mood",
    }
    assert "retry-after" not in response.headers
    assert "field" not in json.loads(bytes(error_response(NotFound("gone"), PATH).body))


def test_retry_after_is_told_whenever_a_retry_may_help() -> None:
    def retry_after(error: AttuneError) -> str | None:
        return error_response(error, PATH).headers.get("retry-after")

    assert retry_after(TooManyRequests("slow down", retry_after=7)) == "7"
    assert retry_after(Unavailable("down")) == "2"
    assert retry_after(Conflict("running", code="request_in_progress", retry_after=1)) == "1"
    assert retry_after(Conflict("already answered")) is None
    # A 429 or 503 that does not say when is still retryable: the default wait.
    assert problem_response(503, "service_unavailable", "x", PATH).headers["retry-after"] == "2"
