"""Services in tests that drive their timed work by hand, on a manual clock."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


def without_own_rounds(patch: pytest.MonkeyPatch, module: ModuleType) -> None:
    """A service wired by `module` after this starts no timed loop of its own: the test calls
    the work itself (`fire_due`, `evaluate_due`) at the times its manual clock gives.

    Otherwise the loop, woken by the events the service applies, can run the same work at
    the same moment once the test has moved the clock: it claims what the test's own call
    was to find, or reads the clock the test has just moved on (seen on a loaded machine:
    a scheduler test fired one reminder of three, an insights test found nothing due)."""

    async def idle(*_args: Any, **_kwargs: Any) -> None:
        return None

    patch.setattr(module, "repeat_when_due", idle)
