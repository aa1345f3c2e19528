"""Bodies are UTF-8 JSON that every store can hold: the middleware that refuses the rest, and
the rules it judges by."""

from __future__ import annotations

import email.message
import functools
import json
import math
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.middleware.headers import header
from services.gateway.problems import UnsupportedMediaType, send_error
from shared.problems import InvalidInput

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
        encoding = (header(scope, b"content-encoding") or "identity").strip().lower()
        if not _is_utf8_json(header(scope, b"content-type")) or encoding != "identity":
            await send_error(scope, send, UnsupportedMediaType(
                "send bodies as application/json in UTF-8 (no other charset, not compressed)"
            ))  # fmt: skip
            return
        refusal = json_refusal(body, self.max_depth)
        if refusal is not None:
            await send_error(scope, send, InvalidInput(refusal, code="invalid_json"))
            return
        await self.app(scope, receive, send)


@functools.lru_cache(maxsize=64)  # clients send the same few headers; parsing one took 4 %
def _is_utf8_json(content_type: str | None) -> bool:  # of the gateway's CPU under load
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


def json_refusal(body: bytes, max_depth: int = JSON_DEPTH_MAX) -> str | None:
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
