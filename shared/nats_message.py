"""The incoming NATS message, handed to our FastStream handlers without a thread hop.

FastStream's own `NatsMessage` annotation resolves the message through `Context`, whose `use`
is synchronous; fast_depends runs every synchronous custom field in a worker thread, so each
message, request and reply paid a trip through the thread pool (measured with py-spy: about
6 % of checkin's and the gateway's CPU under load, plus the wait for a free thread). The same
lookup done in a coroutine runs on the event loop."""

from __future__ import annotations

from typing import Annotated, Any

# The class behind faststream.Context(...); internal, so pinned with faststream's range.
from faststream._internal.context.context_type import Context
from faststream.nats.message import NatsMessage as _NatsMessage


class _OnTheLoop(Context):
    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        resolved: dict[str, Any] = super().use(**kwargs)
        return resolved


IncomingMessage = Annotated[_NatsMessage, _OnTheLoop("message")]
