"""Structured JSON logs with the correlation id of whatever is being handled.

Log records carry ids, codes and counts only: never free text members wrote,
tokens, passwords or emails. Bind those ids with `bind_context`.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries log through the standard library; keep their chatter at WARNING.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")


def failure(exc: BaseException) -> dict[str, str]:
    """Where and what failed, without the exception's message or the values in its frames:
    those may carry what a member wrote, a token or an email."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[-4:]]
    return {"error": type(exc).__name__, "at": " < ".join(reversed(where))}


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_context(**values: Any) -> Iterator[None]:
    """Bind ids (correlation_id, event_id, ...) to every log line in this block."""
    tokens = structlog.contextvars.bind_contextvars(
        **{k: v for k, v in values.items() if v is not None}
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
