"""A command's fingerprint is keyed by its author's data key: a small payload (a mood of 1-5)
cannot be guessed from it, and once erasure destroys the key nothing matches it any more."""

from __future__ import annotations

import hashlib

from services.checkin.pipeline import fingerprint
from shared.messages.checkin_rpc import LogCheckin

PAYLOAD = LogCheckin(mood=3, connection=5)


def test_the_same_request_under_two_keys_has_two_fingerprints():
    one = fingerprint(b"k" * 32, "log_checkin", "rel1", PAYLOAD)
    other = fingerprint(b"j" * 32, "log_checkin", "rel1", PAYLOAD)
    assert one != other
    assert one == fingerprint(b"k" * 32, "log_checkin", "rel1", PAYLOAD)  # a repeat matches


def test_a_fingerprint_is_no_plain_hash_of_the_request():
    text = f"log_checkin:rel1:{PAYLOAD.model_dump_json()}"
    plain = {hashlib.sha256(text.encode()).hexdigest(),
             hashlib.sha256(PAYLOAD.model_dump_json().encode()).hexdigest()}  # fmt: skip
    assert fingerprint(b"k" * 32, "log_checkin", "rel1", PAYLOAD) not in plain


def test_what_the_request_says_and_where_change_the_fingerprint():
    key = b"k" * 32
    base = fingerprint(key, "log_checkin", "rel1", PAYLOAD)
    assert fingerprint(key, "log_checkin", "rel2", PAYLOAD) != base
    assert fingerprint(key, "log_checkin", "rel1", LogCheckin(mood=4, connection=5)) != base
