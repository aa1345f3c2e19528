"""argon2id runs beside the event loop, never on it, and a full pool says 429."""

from __future__ import annotations

import asyncio
import threading

import pytest

from services.gateway.auth import PasswordPool, verify_password
from shared.problems import TooManyRequests


async def test_the_loop_keeps_turning_while_a_password_is_hashed() -> None:
    pool = PasswordPool(workers=1, queue=0)
    turns = 0
    hashing = asyncio.create_task(pool.hash("a long enough secret"))
    while not hashing.done():  # on the loop, the hash would finish before a single turn
        turns += 1
        await asyncio.sleep(0)
    assert turns > 1
    assert verify_password(hashing.result(), "a long enough secret")


async def test_the_work_runs_in_the_pools_own_threads() -> None:
    pool = PasswordPool(workers=1, queue=0)
    names: list[str] = []
    await pool._run(lambda: names.append(threading.current_thread().name))
    assert names and names[0].startswith("argon2")


async def test_past_workers_and_queue_a_sign_in_is_told_to_come_back() -> None:
    pool = PasswordPool(workers=1, queue=1)
    gate = threading.Event()
    first = asyncio.create_task(pool._run(gate.wait))
    second = asyncio.create_task(pool._run(gate.wait))
    await asyncio.wait({first, second}, timeout=0)  # let both take their slot (no waiting)
    with pytest.raises(TooManyRequests):
        await pool.verify(None, "anything")
    gate.set()
    await asyncio.gather(first, second)
