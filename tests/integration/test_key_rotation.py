"""Rotating the master key without downtime: rewrap, then retire the old key."""

from __future__ import annotations

from services.checkin.keyring import Keyring
from services.checkin.store import KEYS
from shared import crypto
from shared.subjects import database_name


async def test_keys_move_to_the_new_master_key_and_stay_readable(mongo, namespace):
    db = mongo[database_name(namespace, "checkin")]
    k1 = crypto.generate_master_key_spec("k1")
    before = Keyring(db, crypto.MasterKeys.parse(k1))
    key = await before.key_for("r1", "m1")
    sealed = crypto.encrypt_text(key, "kept", "ctx")

    both = Keyring(db, crypto.MasterKeys.parse(f"{k1},{crypto.generate_master_key_spec('k2')}"))
    assert await both.key_for("r1", "m1") == key  # the running service keeps working
    assert await both.rewrap() == 1
    assert (await db[KEYS].find_one({"_id": "r1:m1"}))["wrapped"]["master"] == "k2"

    retired = Keyring(db, crypto.MasterKeys({"k2": both.master.keys["k2"]}, "k2"))
    assert crypto.decrypt_text(await retired.key_for("r1", "m1"), sealed, "ctx") == "kept"
