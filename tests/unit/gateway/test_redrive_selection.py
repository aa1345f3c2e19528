"""What a redrive request may select: a reason (narrowed to one event type if asked), or one
sequence."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.gateway.ops.dead_letter_routes import RedriveSelection


@pytest.mark.parametrize(
    "body",
    [{"reason": "r"}, {"reason": "r", "event_type": "bid.made"}, {"sequence": 3}],
)
def test_a_reason_with_or_without_an_event_type_or_a_sequence_is_accepted(
    body: dict[str, Any],
) -> None:
    assert RedriveSelection.model_validate(body).model_dump(exclude_none=True) == body


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_type": "bid.made"},
        {"sequence": 3, "event_type": "bid.made"},
        {"reason": "r", "sequence": 3},
        {"reason": "r", "event_type": ""},
    ],
)
def test_an_event_type_only_narrows_a_reason(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RedriveSelection.model_validate(body)
