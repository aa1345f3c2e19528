"""Sealing text, wrapping keys, rotating the master key."""

from __future__ import annotations

import pytest

from shared import crypto


def test_text_round_trips_and_is_bound_to_its_place():
    key = crypto.new_data_key()
    sealed = crypto.encrypt_text(key, "a private thought", "r1|m1|e1|note")
    assert crypto.is_encrypted(sealed) and "private" not in sealed
    assert crypto.decrypt_text(key, sealed, "r1|m1|e1|note") == "a private thought"
    with pytest.raises(crypto.KeyUnavailable):
        crypto.decrypt_text(key, sealed, "r1|m1|e2|note")  # moved to another entry
    with pytest.raises(crypto.KeyUnavailable):
        crypto.decrypt_text(crypto.new_data_key(), sealed, "r1|m1|e1|note")


def test_the_same_text_seals_differently_each_time():
    key = crypto.new_data_key()
    assert crypto.encrypt_text(key, "x", "c") != crypto.encrypt_text(key, "x", "c")


def test_a_new_master_key_wraps_while_the_old_one_still_unwraps():
    old = crypto.MasterKeys.parse(crypto.generate_master_key_spec("k1"))
    data_key = crypto.new_data_key()
    wrapped = old.wrap(data_key, "r1:m1")
    both = crypto.MasterKeys.parse(f"{old_spec(old)},{crypto.generate_master_key_spec('k2')}")
    assert both.current == "k2"
    assert both.unwrap(wrapped, "r1:m1") == data_key
    rewrapped = both.wrap(data_key, "r1:m1")
    assert rewrapped["master"] == "k2"
    new_only = crypto.MasterKeys({"k2": both.keys["k2"]}, "k2")
    assert new_only.unwrap(rewrapped, "r1:m1") == data_key
    with pytest.raises(crypto.KeyUnavailable):
        new_only.unwrap(wrapped, "r1:m1")  # the old master key is retired


def old_spec(keys: crypto.MasterKeys) -> str:
    import base64

    return f"k1:{base64.urlsafe_b64encode(keys.keys['k1']).decode()}"


@pytest.mark.parametrize("spec", ["", "k1:short", "k1:" + "A" * 10])
def test_bad_master_key_settings_are_refused(spec):
    with pytest.raises(ValueError):
        crypto.MasterKeys.parse(spec)
