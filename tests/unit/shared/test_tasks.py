"""Background tasks stop even when a library swallowed the first cancellation."""

from __future__ import annotations

import asyncio

from shared.tasks import cancel_until_done


async def test_a_task_that_swallows_one_cancel_is_still_stopped() -> None:
    swallowed = 0
    running = asyncio.Event()

    async def stubborn() -> None:
        nonlocal swallowed
        running.set()
        while True:
            try:
                await asyncio.Event().wait()  # until cancelled
            except asyncio.CancelledError:
                if swallowed:  # the second cancel goes through
                    raise
                swallowed += 1  # as Python 3.11's wait_for does in a race

    task = asyncio.create_task(stubborn())
    await running.wait()
    await asyncio.wait_for(cancel_until_done([task], every_seconds=0.01), timeout=30)
    assert task.cancelled() and swallowed == 1


async def test_finished_and_failed_tasks_need_nothing() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    failed = asyncio.create_task(fails())
    await asyncio.wait([failed])
    await cancel_until_done([failed])
    assert isinstance(failed.exception(), ValueError)
