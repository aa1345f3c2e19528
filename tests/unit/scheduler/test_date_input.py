"""A date proposed as a local wall time is read in the proposer's zone, DST included."""

from __future__ import annotations

from shared.messages.scheduler_rpc import ProposeDate


def _proposed(starts_at: str, timezone: str) -> str:
    body = ProposeDate.model_validate(
        {"starts_at": starts_at, "timezone": timezone, "duration_minutes": 60, "kind": "video"}
    )
    return body.model_dump(mode="json")["starts_at"]


def test_a_wall_time_without_offset_is_local_to_the_proposer_in_summer_and_winter():
    assert _proposed("2030-06-01T20:00:00", "Europe/Berlin") == "2030-06-01T20:00:00+02:00"
    assert _proposed("2030-12-01T20:00:00", "Europe/Berlin") == "2030-12-01T20:00:00+01:00"
    assert _proposed("2030-12-01T20:00:00", "America/Los_Angeles") == "2030-12-01T20:00:00-08:00"


def test_an_offset_given_is_kept():
    assert _proposed("2030-06-01T18:00:00Z", "Europe/Berlin") == "2030-06-01T18:00:00Z"
