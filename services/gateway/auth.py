"""Passwords (argon2id) and opaque bearer tokens (only their hash is stored)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.problems import TooManyRequests

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# Verifying against this keeps an unknown email as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("attune-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _yield_to_the_loop() -> None:
    """Lower this worker thread's CPU priority (Linux schedules threads one by one), so the
    event loop thread wins a busy core over argon2: requests keep their latency while
    sign-ins queue. Where the platform has no per-thread priority this changes nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class PasswordPool:
    """argon2id off the event loop, in a few threads (it releases the GIL while it works).

    Each hash takes tens of milliseconds of a core by design: on the loop, a burst of sign-ins
    would stall every request, live stream and webhook. At most `workers` run at once and at
    most `queue` wait; past that a sign-in is told to come back (429) rather than pile up.
    """

    def __init__(self, workers: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="argon2", initializer=_yield_to_the_loop
        )
        self._slots = asyncio.Semaphore(workers + queue)

    async def _run(self, work: Callable[[], T]) -> T:
        if self._slots.locked():
            raise TooManyRequests("signing in is busy; try again in a moment", retry_after=1)
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: hash_password(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(lambda: verify_password(password_hash, password))


def new_token() -> str:
    return "att_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_invite_code() -> str:
    # 10 characters from an unambiguous alphabet: easy to read out, ~50 bits.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))
