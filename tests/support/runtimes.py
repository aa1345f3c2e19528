"""Start real service runtimes inside a test and always stop them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from shared.runtime import ServiceRuntime


@asynccontextmanager
async def running(*runtimes: ServiceRuntime) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for runtime in runtimes:
            await runtime.start()
            stack.push_async_callback(runtime.stop)
        yield
