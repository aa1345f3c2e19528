"""Insights in tests that drive its evaluations by hand."""

from __future__ import annotations

import pytest

from services.insights import handlers
from tests.support.own_rounds import without_own_rounds


def without_own_evaluation_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Insights started after this runs no evaluation loop of its own: the test calls
    `evaluate_due` itself, at the times its manual clock gives."""
    without_own_rounds(monkeypatch, handlers)
