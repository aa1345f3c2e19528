"""A repeated loop sleeps until its next thing is due, and a request made while a round is
running wakes the next round instead of waiting out the sleep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from shared.repeating import Wake, repeat_when_due


@contextlib.asynccontextmanager
async def looping(
    wake: Wake, rounds: list[int], next_due: Callable[[], Awaitable[float]]
) -> AsyncIterator[None]:
    """`repeat_when_due` running in the background, each round noted in `rounds`; an hour
    between rounds unless woken."""

    async def work() -> None:
        rounds.append(len(rounds))

    loop = asyncio.create_task(repeat_when_due(work, next_due, wake, 3600.0, "test"))
    try:
        yield
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


@pytest.mark.timeout(30)
async def test_a_request_made_while_a_round_runs_wakes_the_next_round():
    wake = Wake()
    rounds: list[int] = []
    second_round = asyncio.Event()

    async def next_due() -> float:
        if len(rounds) == 1:
            # Something is asked for just after the round read when the next one is due:
            # what it read says nothing for a long while.
            wake.due_in(1.0)
        else:
            second_round.set()
        return 3600.0

    async with looping(wake, rounds, next_due):
        await asyncio.wait_for(second_round.wait(), timeout=10)  # not the hour it read


@pytest.mark.timeout(30)
async def test_a_request_for_later_than_the_planned_round_does_not_wake_the_loop():
    wake = Wake()
    rounds: list[int] = []
    read = asyncio.Event()

    async def next_due() -> float:
        read.set()  # the loop goes straight on to plan its next round and sleep
        return 3600.0

    async with looping(wake, rounds, next_due):
        await read.wait()
        assert wake.planned != float("inf")  # it sleeps, its next round an hour away
        wake.due_in(7200.0)  # after the round it has planned anyway
        assert not wake.event.is_set()
        assert rounds == [0]
    wake.due_in(1.0)  # before it
    assert wake.event.is_set()
