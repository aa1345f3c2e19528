"""A load generator for fault injection: members writing shared check-ins over HTTP, each write
retried with its own Idempotency-Key until it is accepted, every answer on the way recorded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.support.api import Person

BODY = {"mood": 4, "connection": 7, "visibility": "shared"}


@dataclass
class Write:
    """One write a member meant to make, however many attempts it took."""

    key: str
    phase: str
    relationship_id: str
    entry_id: str | None = None  # set by the 2xx that accepted it
    took: float = 0.0  # seconds from the first attempt to the 2xx
    accepted_at: float = 0.0  # wall clock (time.time) of the 2xx, to compare with the stream's
    retried: list[str] = field(default_factory=list)  # clean refusals before it was accepted
    unclean: list[str] = field(default_factory=list)  # anything else: a defect


def classify(response: httpx.Response) -> tuple[str, bool]:
    """(what it was, whether it is a clean answer a client knows to retry)."""
    problem = response.headers.get("content-type", "").startswith("application/problem+json")
    if response.status_code == 503 and problem and response.headers.get("retry-after"):
        return "503", True
    if response.status_code == 409 and problem and "request_in_progress" in response.text:
        return "409 in progress", True  # the first attempt died with a killed gateway
    return f"{response.status_code} {response.text[:200]}", False


@dataclass
class Load:
    """Each member writes, waits `pause`, writes again, until stopped; `phase` labels writes."""

    members: list[tuple[str, Person]]  # (relationship id, member)
    pause: float = 0.3
    give_up_after: float = 120.0
    phase: str = "warm-up"
    writes: list[Write] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (phase, what)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._member(r, p)) for r, p in self.members]

    async def stop(self) -> None:
        """Stop starting new writes; wait for those under way to be accepted."""
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    def accepted(self, phase: str | None = None) -> list[Write]:
        return [w for w in self.writes if w.entry_id and (phase is None or w.phase == phase)]

    def refusals(self, phase: str) -> Counter[str]:
        """Clean refusals answered while `phase` was under way (to writes of any phase)."""
        return Counter(what for during, what in self.refused if during == phase)

    async def _member(self, relationship_id: str, member: Person) -> None:
        while not self._stopping.is_set():
            write = Write(f"load-{next(self._numbers)}", self.phase, relationship_id)
            self.writes.append(write)
            await self._until_accepted(member, write)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.pause)

    async def _until_accepted(self, member: Person, write: Write) -> None:
        url = f"/v1/relationships/{write.relationship_id}/checkins"
        started = asyncio.get_running_loop().time()
        deadline = started + self.give_up_after
        while asyncio.get_running_loop().time() < deadline:
            try:
                response = await member.post(url, BODY, key=write.key)
            except httpx.TimeoutException:
                what, clean = "timeout", True
            except httpx.TransportError:
                what, clean = "connection refused or reset", True  # the gateway is down
            else:
                if response.status_code == 201:
                    write.entry_id = response.json()["id"]
                    write.took = asyncio.get_running_loop().time() - started
                    write.accepted_at = time.time()
                    return
                what, clean = classify(response)
            (write.retried if clean else write.unclean).append(what)
            if clean:
                self.refused.append((self.phase, what))
            await asyncio.sleep(0.5)
