"""Insights in tests that drive its evaluations by hand."""

from __future__ import annotations

from typing import Any

import pytest

from services.insights import handlers


def without_own_evaluation_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Insights started after this runs no evaluation loop of its own: the test calls
    `evaluate_due` itself, at the times its manual clock gives. Otherwise the loop, woken by
    the events insights applies, can take the evaluation once the test has moved the clock
    past the delay, and the test's own call finds nothing due (seen on a loaded machine)."""

    async def idle(*_args: Any, **_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(handlers, "repeat_when_due", idle)
