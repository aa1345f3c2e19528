"""The gateway's memory of tokens and relationships: brief, bounded, and forgotten at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.gateway.access import AccessCache, Forgotten

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Reads:
    """A stand-in for the database: counts reads, answers what it holds now."""

    def __init__(self) -> None:
        self.count = 0
        self.tokens: dict[str, tuple[str, datetime]] = {}
        self.relationships: dict[str, dict] = {}

    def token(self, digest: str):
        async def read():
            self.count += 1
            return self.tokens.get(digest)

        return read

    def relationship(self, rid: str):
        async def read():
            self.count += 1
            return self.relationships.get(rid)

        return read


def listening(cache: AccessCache, link: list[tuple[bool, int]] | None = None) -> AccessCache:
    state = link or [(True, 0)]
    cache.listening(lambda: state[0])
    return cache


async def test_a_token_is_read_once_then_remembered_until_its_time_is_up():
    clock, reads = Clock(), Reads()
    cache = listening(AccessCache(5, 100, clock))
    reads.tokens["d1"] = ("ann", LATER)
    assert await cache.token_holder("d1", NOW, reads.token("d1")) == "ann"
    assert await cache.token_holder("d1", NOW, reads.token("d1")) == "ann"
    assert reads.count == 1
    clock.t = 6
    assert await cache.token_holder("d1", NOW, reads.token("d1")) == "ann"
    assert reads.count == 2


async def test_a_remembered_token_never_outlives_its_own_expiry():
    reads = Reads()
    cache = listening(AccessCache(5, 100, Clock()))
    reads.tokens["d1"] = ("ann", NOW + timedelta(seconds=1))
    assert await cache.token_holder("d1", NOW, reads.token("d1")) == "ann"
    del reads.tokens["d1"]  # expired: the database no longer answers it
    assert await cache.token_holder("d1", NOW + timedelta(seconds=2), reads.token("d1")) is None


async def test_forgetting_a_token_a_member_or_a_relationship_takes_effect_at_once():
    reads = Reads()
    cache = listening(AccessCache(600, 100, Clock()))
    reads.tokens.update({"d1": ("ann", LATER), "d2": ("ann", LATER), "d3": ("ben", LATER)})
    reads.relationships.update({"r1": {"_id": "r1", "members": ["ann", "ben"]},
                                "r2": {"_id": "r2", "members": ["ben"]}})  # fmt: skip
    for digest in ("d1", "d2", "d3"):
        await cache.token_holder(digest, NOW, reads.token(digest))
    for rid in ("r1", "r2"):
        await cache.relationship(rid, reads.relationship(rid))
    assert reads.count == 5

    del reads.tokens["d1"]
    cache.forget(Forgotten(tokens=["d1"]))
    assert await cache.token_holder("d1", NOW, reads.token("d1")) is None

    reads.relationships["r2"] = {"_id": "r2", "members": ["ben", "cy"]}
    cache.forget(Forgotten(relationships=["r2"]))
    assert (await cache.relationship("r2", reads.relationship("r2")))["members"] == ["ben", "cy"]

    # An erased member: every token of theirs and every relationship they were in.
    del reads.tokens["d2"]
    reads.relationships["r1"] = {"_id": "r1", "members": ["ben"]}
    before = reads.count
    cache.forget(Forgotten(members=["ann"]))
    assert await cache.token_holder("d2", NOW, reads.token("d2")) is None
    assert (await cache.relationship("r1", reads.relationship("r1")))["members"] == ["ben"]
    assert await cache.token_holder("d3", NOW, reads.token("d3")) == "ben"  # still remembered
    assert reads.count == before + 2


async def test_memory_is_bounded():
    reads = Reads()
    cache = listening(AccessCache(600, 3, Clock()))
    for i in range(10):
        reads.tokens[f"d{i}"] = (f"m{i}", LATER)
        reads.relationships[f"r{i}"] = {"_id": f"r{i}", "members": [f"m{i}"]}
        await cache.token_holder(f"d{i}", NOW, reads.token(f"d{i}"))
        await cache.relationship(f"r{i}", reads.relationship(f"r{i}"))
    assert len(cache) == 6  # three tokens and three relationships at most


async def test_a_read_under_way_while_something_is_forgotten_is_not_remembered():
    reads = Reads()
    cache = listening(AccessCache(600, 100, Clock()))
    reads.tokens["d1"] = ("ann", LATER)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_read():
        reads.count += 1
        found = reads.tokens.get("d1")  # read before the revocation committed...
        started.set()
        await release.wait()
        return found

    pending = asyncio.create_task(cache.token_holder("d1", NOW, slow_read))
    await started.wait()
    del reads.tokens["d1"]
    cache.forget(Forgotten(tokens=["d1"]))  # ...and forgotten before the read returned
    release.set()
    assert await pending == "ann"  # that request was under way before the revocation
    assert await cache.token_holder("d1", NOW, reads.token("d1")) is None


async def test_nothing_is_remembered_without_a_connection_and_everything_is_forgotten_after_one():
    reads = Reads()
    link = [(True, 0)]
    cache = listening(AccessCache(600, 100, Clock()), link)
    reads.tokens["d1"] = ("ann", LATER)
    await cache.token_holder("d1", NOW, reads.token("d1"))
    link[0] = (False, 0)  # disconnected: a revocation may be missed
    await cache.token_holder("d1", NOW, reads.token("d1"))
    await cache.token_holder("d1", NOW, reads.token("d1"))
    assert (reads.count, len(cache)) == (3, 0)
    link[0] = (True, 1)  # back after a break: remembering starts again from nothing
    await cache.token_holder("d1", NOW, reads.token("d1"))
    await cache.token_holder("d1", NOW, reads.token("d1"))
    assert reads.count == 4


async def test_a_replica_that_does_not_listen_yet_or_keeps_nothing_always_reads():
    reads = Reads()
    reads.tokens["d1"] = ("ann", LATER)
    for cache in (AccessCache(600, 100, Clock()), listening(AccessCache(0, 100, Clock()))):
        await cache.token_holder("d1", NOW, reads.token("d1"))
        await cache.token_holder("d1", NOW, reads.token("d1"))
    assert reads.count == 4
