"""Live-stream ids: opaque, bound to one member's stream of one relationship."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime

import pytest

from services.gateway.routes.stream import open_position, seal_position
from shared import crypto
from shared.problems import InvalidInput

KEY = crypto.new_data_key()
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_an_id_opens_to_its_positions_and_time_for_its_own_member_and_relationship():
    sealed = seal_position(KEY, "r1", "m1", {"checkin": 41, "insights": 7}, AT)
    resume = open_position(KEY, "r1", "m1", sealed)
    assert resume.positions == {"checkin": 41, "insights": 7}
    assert resume.issued_at == AT


def test_ids_reveal_nothing_and_two_of_the_same_position_differ():
    one = seal_position(KEY, "r1", "m1", {"checkin": 41}, AT)
    two = seal_position(KEY, "r1", "m1", {"checkin": 41}, AT)
    assert one != two
    # Opaque: neither the position nor the stream's name can be read from the id, at any
    # layer of its encoding (the ciphertext is random bytes, so only words are looked for).
    layers = [one.encode()]
    with contextlib.suppress(ValueError):
        layers.append(base64.urlsafe_b64decode(one + "=" * (-len(one) % 4)))
    assert all(b"checkin" not in layer and b'": 41' not in layer for layer in layers)


@pytest.mark.parametrize(
    ("rid", "member", "key"),
    [("r2", "m1", KEY), ("r1", "m2", KEY), ("r1", "m1", crypto.new_data_key())],
)
def test_an_id_is_refused_anywhere_else_or_under_another_key(rid: str, member: str, key: bytes):
    sealed = seal_position(KEY, "r1", "m1", {"checkin": 1}, AT)
    with pytest.raises(InvalidInput):
        open_position(key, rid, member, sealed)


@pytest.mark.parametrize("value", ["", "not-a-position", "eyJjaGVja2luIjogMH0=", "%%%"])
def test_a_made_up_id_is_refused(value: str):
    with pytest.raises(InvalidInput):
        open_position(KEY, "r1", "m1", value)
