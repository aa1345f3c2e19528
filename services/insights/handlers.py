"""One function per message the insights service handles, and its evaluation tick.

An event's contributions commit in one transaction with the processed-event
marker (so a redelivered event changes nothing) and ask for an evaluation of its
relationship a moment later. A tick claims due relationships one at a time, so
replicas never evaluate the same one at once; a burst of events costs one
evaluation, and time-based rules are re-evaluated on a schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.insights import domain, evaluation, store
from services.insights.merging import merged_updates
from services.insights.settings import InsightsSettings
from shared.consumer import apply_batch_once, apply_once
from shared.envelope import Visibility
from shared.erasure import handle_erasure
from shared.membership import authorize
from shared.messages.base import DecodedEvent, new_event
from shared.messages.gateway import MemberErased
from shared.messages.insights import InsightsErasureConfirmed
from shared.messages.views_rpc import Flag, Health, Insights, InsightsQuery, Recommendation
from shared.mongo import Session, next_due
from shared.rpc import Request
from shared.runtime import ServiceRuntime, Wake, repeat_when_due


class InsightsHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Callable[[], datetime] | None = None):
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, InsightsSettings)
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.wake = Wake()  # an evaluation was asked for in this process

    async def _evaluate(self, session: Session, relationship_id: str, now: datetime) -> None:
        db = self.runtime.db
        view = await store.load_view(db, relationship_id, now, session)
        prior = await store.load_state(db, relationship_id, session)
        state, outgoing = evaluation.evaluate(view, prior, self.settings.rules)
        await store.save_state(db, session, relationship_id, state)
        envelopes = [
            new_event(
                item.data,
                relationship_id=relationship_id,
                actor_id=item.member_id,
                visibility=Visibility.PRIVATE if item.member_id else Visibility.SHARED,
                time=now,
            )
            for item in outgoing
        ]
        if envelopes:
            await self.runtime.outbox.add(session, *envelopes)
        await store.schedule_evaluation(
            db, session, relationship_id,
            now + timedelta(seconds=self.settings.reevaluate_every_seconds),
        )  # fmt: skip

    async def on_event(self, event: DecodedEvent) -> None:
        found = domain.contributions(event)
        rid = event.envelope.relationship_id
        if not found or rid is None:
            return
        db = self.runtime.db

        soon = self.clock() + timedelta(seconds=self.settings.evaluation_delay_seconds)

        async def effect(session: Session) -> None:
            await store.apply(db, session, found)
            # A burst of events is evaluated once, by the tick, a moment later.
            await store.request_evaluation(db, session, rid, soon)

        await apply_once(self.runtime.mongo, db, "aggregates", event.id, effect)

    async def on_batch(self, batch: list[DecodedEvent]) -> None:
        """A batch of events: their contributions merged, one bulk write per aggregate
        collection, the processed markers and the evaluation requests, in one transaction."""
        if not any(domain.contributions(event) for event in batch):
            return  # nothing here the rules use: no write at all
        db = self.runtime.db
        soon = self.clock() + timedelta(seconds=self.settings.evaluation_delay_seconds)

        async def effect(session: Session, fresh: list[DecodedEvent]) -> None:
            found = [c for event in fresh if event.envelope.relationship_id
                     for c in domain.contributions(event)]  # fmt: skip
            if not found:
                return
            await store.apply_merged(db, session, merged_updates(found))
            # A burst of events is evaluated once, by the tick, a moment later.
            rids = sorted({e.envelope.relationship_id for e in fresh
                           if e.envelope.relationship_id and domain.contributions(e)})  # fmt: skip
            await store.request_evaluations(db, session, rids, soon)

        if await apply_batch_once(self.runtime.mongo, db, "aggregates", batch, effect):
            self.wake.due_in(self.settings.evaluation_delay_seconds)

    async def seconds_to_next(self) -> float | None:
        """Until the earliest evaluation falls due (None: none asked for)."""
        due = await next_due(self.runtime.db[domain.RELATIONSHIPS], "next_eval_at")
        return None if due is None else (due - self.clock()).total_seconds()

    async def evaluate_due(self, limit: int = 100) -> int:
        """Re-evaluate relationships whose time has come (flags clear as windows move on)."""
        done = 0
        db = self.runtime.db
        for _ in range(limit):
            now = self.clock()
            claim_until = now + timedelta(seconds=self.settings.reevaluate_every_seconds)
            rid = await store.claim_due(db, now, claim_until)
            if rid is None:
                break

            async def work(session: Session, rid: str = rid, now: datetime = now) -> None:
                await self._evaluate(session, rid, now)

            await self.runtime.transact(work)
            done += 1
        return done

    async def member_export(self, _query: InsightsQuery, request: Request) -> MemberInsights:
        member = request.context.actor_id
        assert member is not None
        flags, days = await store.member_records(self.runtime.db, member)
        return MemberInsights(flags=flags, days=days)

    async def insights(self, _query: InsightsQuery, request: Request) -> Insights:
        """Flags, health, strengths and recommendations as this member may see them."""
        context = request.context
        db = self.runtime.db
        await authorize(
            db, context.relationship_id, context.actor_id, context.members,
            context.membership_version,
        )  # fmt: skip
        assert context.relationship_id is not None and context.actor_id is not None
        member, now = context.actor_id, self.clock()
        view = await store.load_view(db, context.relationship_id, now)
        state = await store.load_state(db, context.relationship_id)
        flags = [
            Flag(code=f["code"], severity=f["severity"], raised_at=f["raised_at"],
                 evidence=f["evidence"], suggestion=f["suggestion"])
            for f in evaluation.visible_flags(state, member)
        ]  # fmt: skip
        health = Health(**state.health) if state.health else Health()
        return Insights(
            flags=flags,
            health=health,
            strengths=evaluation.strengths(view, member),
            recommendations=[
                Recommendation(**r)
                for r in evaluation.recommendations(view, state, member, self.settings.rules)
            ],
        )


class MemberInsights(BaseModel):
    """A member's own insights, for export: flags only they see, their own counters."""

    flags: list[dict[str, Any]]
    days: list[dict[str, Any]]


def wire(runtime: ServiceRuntime, clock: Callable[[], datetime] | None = None) -> InsightsHandlers:
    handlers = InsightsHandlers(runtime, clock)
    runtime.keep_membership()
    runtime.consume_batches("checkin", "aggregates", handlers.on_batch)
    runtime.consume_batches("scheduler", "aggregates", handlers.on_batch)
    runtime.respond("qry", "insights", InsightsQuery, handlers.insights)
    runtime.respond("qry", "member_export", InsightsQuery, handlers.member_export)

    async def erase_member(session: Session, erased: MemberErased) -> None:
        await store.erase_member(runtime.db, session, erased.member_id, erased.relationship_ids)

    async def erase_relationship(session: Session, relationship_id: str) -> None:
        await store.erase_relationship(runtime.db, session, relationship_id)

    handle_erasure(runtime, InsightsErasureConfirmed, erase_member, erase_relationship)

    async def start(rt: ServiceRuntime) -> None:
        await store.ensure_indexes(rt.db)
        rt.spawn(repeat_when_due(handlers.evaluate_due, handlers.seconds_to_next, handlers.wake,
                                 handlers.settings.tick_seconds, "insights_tick"))  # fmt: skip

    runtime.on_startup(start)
    return handlers
