"""`python -m deploy.ops dead-letters ...`: each action is the /ops/dead-letters call it says."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.ops import parser, request

BASE = "/ops/dead-letters"
REASON = "gave up after 20 deliveries: RuntimeError"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["list"], ("GET", BASE, {})),
        (["show", "insights", "12"], ("GET", f"{BASE}/insights/12", {})),
        (["redrive", "insights", "--sequence", "12"],
         ("POST", f"{BASE}/insights/redrive", {"json": {"sequence": 12}})),
        (["redrive", "insights", "--reason", REASON],
         ("POST", f"{BASE}/insights/redrive", {"json": {"reason": REASON}})),
        (["redrive", "insights", "--reason", REASON, "--event-type", "bid.made"],
         ("POST", f"{BASE}/insights/redrive",
          {"json": {"reason": REASON, "event_type": "bid.made"}})),
        (["purge", "insights", "--sequence", "12"], ("DELETE", f"{BASE}/insights/12", {})),
        (["purge", "insights", "--reason", REASON],
         ("DELETE", f"{BASE}/insights", {"params": {"reason": REASON}})),
        (["purge", "insights", "--all"],
         ("DELETE", f"{BASE}/insights", {"params": {"all": "true"}})),
    ],
)  # fmt: skip
def test_each_action_maps_to_its_route(argv: list[str], expected: tuple[str, str, Any]) -> None:
    assert request(parser().parse_args(["dead-letters", *argv])) == expected


def test_a_redrive_names_a_reason_or_a_sequence_not_both() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["dead-letters", "redrive", "insights", "--reason", "x",
                             "--sequence", "1"])  # fmt: skip
