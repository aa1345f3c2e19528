"""One function per message the insights service handles."""

from __future__ import annotations

from shared.membership import authorize
from shared.messages.base import DecodedEvent
from shared.messages.views_rpc import Insights, InsightsQuery
from shared.rpc import Request
from shared.runtime import ServiceRuntime


class InsightsHandlers:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def on_signal_input(self, event: DecodedEvent) -> None:
        """Accepted and acknowledged; the insights issue gives these events their effect."""

    async def insights(self, _query: InsightsQuery, request: Request) -> Insights:
        """What insights know for this caller: nothing yet until the rules exist."""
        context = request.context
        await authorize(
            self.runtime.db, context.relationship_id, context.actor_id, context.members,
            context.membership_version,
        )  # fmt: skip
        return Insights()


def wire(runtime: ServiceRuntime) -> InsightsHandlers:
    handlers = InsightsHandlers(runtime)
    runtime.keep_membership()
    # Facts and ritual misses feed the aggregates; the durable consumers exist
    # from the start so no event is missed before the rules arrive.
    runtime.consume("checkin", "aggregates", handlers.on_signal_input)
    runtime.consume("scheduler", "aggregates", handlers.on_signal_input)
    runtime.respond("qry", "insights", InsightsQuery, handlers.insights)
    return handlers
