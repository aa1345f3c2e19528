"""One function per message the insights service handles, and its evaluation tick.

services/insights/app.py says which function answers each request and consumes which
events; this module says what each does.

An event's contributions commit in one transaction with the processed-event
marker (so a redelivered event changes nothing) and ask for an evaluation of its
relationship a moment later. A tick claims the due relationships (each claim guarded,
so replicas never evaluate the same one at once) and evaluates them together; a burst
of events costs one evaluation, and time-based rules are re-evaluated on a schedule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.insights import domain, evaluation, showing, store
from services.insights.settings import InsightsSettings
from shared import crypto
from shared.clock import SYSTEM_CLOCK, Clock
from shared.envelope import Visibility
from shared.logging import failure, get_logger
from shared.membership import authorize
from shared.messages.base import DecodedEvent, new_event
from shared.messages.gateway import (
    MemberErased,
    MemberJoined,
    MemberUpdated,
    RelationshipCreated,
)
from shared.messages.views_rpc import (
    AnswerRecommendation,
    Done,
    ExportInsights,
    FlagResponse,
    Insights,
    InsightsQuery,
    RespondToFlag,
)
from shared.mongo import Document, Session
from shared.problems import Conflict, NotFound
from shared.repeating import Wake, repeat_when_due
from shared.rpc import Request
from shared.runtime import ServiceRuntime

log = get_logger(__name__)


class InsightsHandlers:
    def __init__(self, runtime: ServiceRuntime, clock: Clock = SYSTEM_CLOCK):
        self.runtime = runtime
        settings = runtime.settings
        assert isinstance(settings, InsightsSettings)
        self.settings = settings
        self.clock = clock
        self.master = crypto.master_keys_of(settings)
        self.wake = Wake()  # an evaluation was asked for in this process

    async def _evaluate(self, session: Session, relationship_ids: list[str], now: datetime) -> None:
        """Evaluate these relationships together: their views and prior states read once
        for all, each decided on its own, the new states written in one bulk write and the
        events they raise added to the outbox. (Their next time-based evaluation was set
        when they were claimed; events arriving meanwhile bring it forward again.)"""
        db = self.runtime.db
        views = await store.load_views(db, relationship_ids, now, session)
        priors = await store.load_states(db, relationship_ids, session)
        rules, states, envelopes = self.settings.rules, {}, []
        for rid in relationship_ids:
            states[rid], outgoing = evaluation.evaluate(views[rid], priors[rid], rules)
            envelopes += [
                new_event(
                    item.data,
                    relationship_id=rid,
                    actor_id=item.member_id,
                    visibility=Visibility.PRIVATE if item.member_id else Visibility.SHARED,
                    time=now,
                )
                for item in outgoing
            ]
        await store.save_states(db, session, states)
        if envelopes:
            await self.runtime.outbox.add(session, *envelopes)

    async def on_event(self, event: DecodedEvent) -> None:
        """One event on its own (the service consumes batches, on_batch; the history
        benchmark, bench/insights_history.py, measures this path)."""
        rid = event.envelope.relationship_id
        if rid is None or not domain.contributes(event):
            return
        db = self.runtime.db
        # Days are the members' own (and the relationship's), as known when the event lands.
        found = domain.contributions(event, await store.load_zones(db, rid))

        soon = self.clock.now() + timedelta(seconds=self.settings.evaluation_delay_seconds)

        async def effect(session: Session) -> None:
            await store.apply(db, session, found)
            # A burst of events is evaluated once, by the tick, a moment later.
            await store.request_evaluation(db, session, rid, soon)

        await self.runtime.apply_once("aggregates", event.id, effect)

    async def on_batch(self, batch: list[DecodedEvent]) -> None:
        """A batch of events: their contributions merged, one bulk write per aggregate
        collection, the processed markers and the evaluation requests, in one transaction."""
        if not any(domain.contributes(event) for event in batch):
            return  # nothing here the rules use: no write at all
        db = self.runtime.db
        soon = self.clock.now() + timedelta(seconds=self.settings.evaluation_delay_seconds)

        async def effect(session: Session, fresh: list[DecodedEvent]) -> None:
            # Days are the members' own (and the relationship's), as known when events land.
            touched = {e.envelope.relationship_id for e in fresh}
            zones = await store.load_zones_of(db, [r for r in touched if r is not None], session)
            each = [(rid, domain.contributions(event, zones[rid])) for event in fresh
                    if (rid := event.envelope.relationship_id)]  # fmt: skip
            found = [c for _, contributed in each for c in contributed]
            if not found:
                return
            # A burst of events is evaluated once, by the tick, a moment later: asked for in
            # the same write as the relationship's own figures.
            rids = sorted({rid for rid, contributed in each if contributed})
            found += [domain.evaluation_request(rid, soon) for rid in rids]
            await store.apply_merged(db, session, found)

        if await self.runtime.apply_batch_once("aggregates", batch, effect):
            self.wake.due_in(self.settings.evaluation_delay_seconds)

    async def seconds_to_next(self) -> float | None:
        """Until the earliest evaluation falls due (None: none asked for)."""
        due = await store.next_evaluation_at(self.runtime.db)
        return None if due is None else (due - self.clock.now()).total_seconds()

    async def evaluate_due(self, limit: int = 100) -> int:
        """Re-evaluate relationships whose time has come (flags clear as windows move on),
        up to `limit` claimed and evaluated together in one transaction. Should that fail,
        each is tried on its own, so one that cannot be evaluated holds up no other."""
        now = self.clock.now()
        claim_until = now + timedelta(seconds=self.settings.reevaluate_every_seconds)
        rids = await store.claim_due(self.runtime.db, now, claim_until, limit)
        if not rids:
            return 0
        try:
            await self.runtime.transact(lambda session: self._evaluate(session, rids, now))
        except Exception as exc:
            if len(rids) == 1:
                await self._ask_again(rids)
                raise
            log.warning("evaluations_one_by_one", relationships=len(rids), **failure(exc))
            for rid in rids:

                async def alone(session: Session, rid: str = rid) -> None:
                    await self._evaluate(session, [rid], now)

                try:
                    await self.runtime.transact(alone)
                except Exception as one:
                    log.warning("evaluation_failed", relationship_id=rid, **failure(one))
                    await self._ask_again([rid])
        return len(rids)

    async def _ask_again(self, rids: list[str]) -> None:
        """A claimed evaluation that failed is asked for again shortly: its claim moved the
        next one an hour on, and what its events changed would go unseen until then."""
        again = self.clock.now() + timedelta(seconds=self.settings.evaluation_retry_seconds)
        await store.request_evaluations(self.runtime.db, rids, again)

    # -- whose days count: members' time zones, each relationship's creator and joinings --
    async def on_member_updated(self, event: DecodedEvent) -> None:
        data, db = event.data, self.runtime.db
        assert isinstance(data, MemberUpdated)  # app.py's table sends it only these

        await self._zones(event, lambda s: store.save_zone(db, s, data.member_id, data.timezone))

    async def on_relationship_created(self, event: DecodedEvent) -> None:
        data, db, rid = event.data, self.runtime.db, event.envelope.relationship_id
        assert isinstance(data, RelationshipCreated)  # app.py's table sends it only these
        if not rid:
            return

        async def effect(session: Session) -> None:
            await store.save_creator(db, session, rid, data.created_by)
            await store.save_joined(db, session, rid, data.members, data.membership_version)

        await self._zones(event, effect)

    async def on_member_joined(self, event: DecodedEvent) -> None:
        data, db, rid = event.data, self.runtime.db, event.envelope.relationship_id
        assert isinstance(data, MemberJoined)  # app.py's table sends it only these
        if not rid:
            return

        joined, version = [data.member_id], data.membership_version
        await self._zones(event, lambda s: store.save_joined(db, s, rid, joined, version))

    async def _zones(
        self, event: DecodedEvent, write: Callable[[Session], Awaitable[None]]
    ) -> None:
        """Whose days count, applied once per event (one processed marker for all three)."""
        await self.runtime.apply_once("zones", event.id, write)

    async def member_export(self, _query: ExportInsights, request: Request) -> MemberInsights:
        member = request.context.actor_id
        assert member is not None
        db = self.runtime.db
        flags, days = await store.member_records(db, member)
        responses = []
        for response in await store.member_flag_responses(db, member):
            key = await self._note_key(response["relationship_id"])
            responses.append({**response, "note": self._open_note(key, response)})
        answers = await store.member_recommendation_answers(db, member)
        return MemberInsights(
            flags=flags, days=days, flag_responses=responses, recommendation_answers=answers
        )

    async def _member(self, request: Request) -> tuple[str, str]:
        context = request.context
        await authorize(
            self.runtime.db, context.relationship_id, context.actor_id, context.members,
            context.membership_version,
        )  # fmt: skip
        assert context.relationship_id is not None and context.actor_id is not None
        return context.relationship_id, context.actor_id

    async def _note_key(self, relationship_id: str) -> bytes:
        """The relationship's key for notes on flags; it goes when the relationship goes."""
        db, name = self.runtime.db, f"insights-notes:{relationship_id}"
        wrapped = await store.note_key(db, relationship_id)
        if wrapped is None:
            await store.save_note_key(
                db, relationship_id, self.master.wrap(crypto.new_data_key(), name)
            )
            wrapped = await store.note_key(db, relationship_id)
            if wrapped is None:
                raise NotFound("flag not found", code="flag_not_found")  # no state, no flag
        return self.master.unwrap(wrapped, name)

    def _open_note(self, key: bytes | None, response: Document) -> str | None:
        note = response.get("note")
        if note is None or key is None:
            return None
        try:
            return crypto.decrypt_text(key, note, response["_id"])
        except (crypto.KeyUnavailable, ValueError):
            log.warning("flag_note_unreadable")
            return None

    async def rewrap_note_keys(self) -> None:
        """A new current master key takes over the note keys (so the old one can go)."""
        db = self.runtime.db
        for document in await store.keys_wrapped_by_others(db, self.master.current):
            name = f"insights-notes:{document['_id']}"
            try:
                key = self.master.unwrap(document["note_key"], name)
            except crypto.KeyUnavailable:
                log.warning("note_key_unreadable")
                continue
            new = self.master.wrap(key, name)
            await store.replace_note_key(db, document["_id"], document["note_key"], new)

    async def insights(self, _query: InsightsQuery, request: Request) -> Insights:
        """Flags, health, strengths and recommendations as this member may see them."""
        rid, member = await self._member(request)
        db, now, rules = self.runtime.db, self.clock.now(), self.settings.rules
        view = await store.load_view(db, rid, now)
        state = await store.load_state(db, rid)
        visible = evaluation.visible_flags(state, member)
        stored = await store.flag_responses(db, rid, [f for f in visible if f["member_id"] is None])
        key = await self._note_key(rid) if stored else None
        responses = {
            code: [FlagResponse(member_id=r["member_id"], answer=r["answer"],
                                note=self._open_note(key, r), at=r["at"]) for r in given]
            for code, given in stored.items()
        }  # fmt: skip
        answered = await store.answered_recommendations(db, rid, member)
        shown = showing.insights_for(view, state, member, rules, responses, answered)
        await store.mark_shown(db, rid, state)  # the daily texts may now move on
        return shown

    async def respond_to_flag(self, cmd: RespondToFlag, request: Request) -> Done:
        """A member's answer to a relationship-wide flag: once per member and raising."""
        rid, member = await self._member(request)
        db = self.runtime.db
        state = await store.load_state(db, rid)
        flag = state.flags.get(cmd.code.value)
        if flag is None or flag["member_id"] is not None:
            raise NotFound("this flag is not up in this relationship", code="flag_not_found")
        if not evaluation.may_answer(flag, member):
            raise Conflict(
                "the flag rests on your own reports; the other member(s) may answer it",
                code="flag_response_not_yours",
            )
        at = self.clock.now()
        note = None
        raising = store.raising_of(rid, flag)
        if cmd.note is not None:
            note = crypto.encrypt_text(await self._note_key(rid), cmd.note, f"{raising}:{member}")
        if not await store.respond_to_flag(db, rid, flag, member, cmd.answer.value, note, at):
            raise Conflict("you already answered this flag", code="flag_already_answered")
        return Done()

    async def answer_recommendation(self, cmd: AnswerRecommendation, request: Request) -> Done:
        """Dismissed ones never come back; done ones count as exercises."""
        rid, member = await self._member(request)
        db, now = self.runtime.db, self.clock.now()
        view = await store.load_view(db, rid, now)
        state = await store.load_state(db, rid)
        answered = await store.answered_recommendations(db, rid, member)
        if cmd.recommendation_id not in answered and cmd.recommendation_id not in (
            evaluation.recommendation_ids(view, state, member, self.settings.rules)
        ):
            raise NotFound("no such recommendation for you", code="recommendation_not_found")
        exercise = domain.exercise_done(rid, view.today) if cmd.answer == "done" else []

        async def work(session: Session) -> None:
            new = await store.answer_recommendation(
                db, session, rid, member, cmd.recommendation_id, cmd.answer, now
            )
            if new and exercise:
                await store.apply(db, session, exercise)
                await store.request_evaluation(db, session, rid, now)

        await self.runtime.transact(work)
        return Done()

    # -- erasure and start-up ------------------------------------------------------------
    async def erase_member(self, session: Session, erased: MemberErased) -> None:
        await store.erase_member(
            self.runtime.db, session, erased.member_id, erased.every_relationship_id,
            erased.erased_at,
        )  # fmt: skip

    async def erase_relationship(self, session: Session, relationship_id: str) -> None:
        await store.erase_relationship(self.runtime.db, session, relationship_id)

    async def prepare(self, runtime: ServiceRuntime) -> None:
        await store.ensure_indexes(runtime.db)
        moved = await store.move_days_into_months(runtime.db, runtime.transact)
        if moved:
            log.info("days_moved_into_months", days=moved)
        await self.rewrap_note_keys()
        runtime.spawn(repeat_when_due(self.evaluate_due, self.seconds_to_next, self.wake,
                                      self.settings.tick_seconds, "insights_tick"))  # fmt: skip


class MemberInsights(BaseModel):
    """A member's own insights, for export: flags only they see, their own counters."""

    flags: list[dict[str, Any]]
    days: list[dict[str, Any]]
    flag_responses: list[dict[str, Any]] = []
    recommendation_answers: list[dict[str, Any]] = []
