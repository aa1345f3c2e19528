"""The insights service: which function answers each query and command, which events it
reads, and what it keeps.

Each request type is answered by one function (services/insights/handlers.py); the catalog
(shared/contract.py) gives its subject. What each event contributes to the aggregates is
domain.CONTRIBUTIONS; the rules over them are in rules/.
"""

from __future__ import annotations

from starlette.applications import Starlette

from services.insights.handlers import InsightsHandlers
from services.insights.settings import InsightsSettings
from shared.clock import SYSTEM_CLOCK, Clock
from shared.dispatch import by_event_type
from shared.erasure import handle_erasure
from shared.messages.gateway import MemberJoined, MemberUpdated, RelationshipCreated
from shared.messages.insights import InsightsErasureConfirmed
from shared.messages.views_rpc import (
    AnswerRecommendation,
    ExportInsights,
    InsightsQuery,
    RespondToFlag,
)
from shared.runtime import ServiceRuntime


def wire(runtime: ServiceRuntime, clock: Clock = SYSTEM_CLOCK) -> InsightsHandlers:
    handlers = InsightsHandlers(runtime, clock)
    runtime.handle({
        InsightsQuery: handlers.insights,
        ExportInsights: handlers.member_export,
        RespondToFlag: handlers.respond_to_flag,
        AnswerRecommendation: handlers.answer_recommendation,
    })  # fmt: skip
    runtime.keep_membership()
    # The aggregates take every event the rules use, a batch at a time (on_batch skips
    # the others without a write).
    runtime.consume_batches("checkin", "aggregates", handlers.on_batch, leaves_out_erased=True)
    runtime.consume_batches("scheduler", "aggregates", handlers.on_batch, leaves_out_erased=True)
    # Whose days count: members' time zones, and who created and joined each relationship.
    runtime.consume("gateway", "zones", by_event_type({
        MemberUpdated: handlers.on_member_updated,
        RelationshipCreated: handlers.on_relationship_created,
        MemberJoined: handlers.on_member_joined,
    }))  # fmt: skip
    handle_erasure(
        runtime, InsightsErasureConfirmed, handlers.erase_member, handlers.erase_relationship
    )
    runtime.on_startup(handlers.prepare)
    return handlers


def create_runtime(settings: InsightsSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or InsightsSettings())
    wire(runtime)
    return runtime


def create_app(settings: InsightsSettings | None = None) -> Starlette:
    return create_runtime(settings).asgi()
