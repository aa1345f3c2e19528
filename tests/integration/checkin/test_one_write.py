"""One document per command, without transactions, still answers every command once."""

from __future__ import annotations

import asyncio
from typing import cast

from services.checkin.store import COMMANDS as OLD_COMMANDS
from services.checkin.store import ENTRIES
from shared.contract import operation
from shared.messages.asks import Asks
from shared.messages.checkin_rpc import Entry
from shared.outbox import EVENTS, EVENTS_SEQ, OUTBOX
from shared.problems import Conflict
from tests.support.checkin import Member, checkin_events
from tests.support.waiting import eventually


async def send(member: Member, name: str, command_id: str, **payload) -> tuple[Entry, bool]:
    command = cast(Asks[Entry], operation("cmd", "checkin", name).request(**payload))
    return await member.rpc.call_replayable(
        command, context=member.context(), command_id=command_id
    )


async def test_a_command_is_one_document_holding_its_record_and_events_until_published(
    checkin, alice: Member, nats_client
):
    db, ns = checkin.db, checkin.settings.namespace
    entry = await alice.cmd("log_checkin", command_id="c-1", mood=3, connection=5,
                            note="tired", visibility="shared")  # fmt: skip
    stored = await db[ENTRIES].find_one({"_id": entry.id})
    assert stored is not None
    assert [c["id"] for c in stored["commands"]] == ["c-1"]
    # Nothing beside the entry: no command record, no outbox row.
    assert await db[OLD_COMMANDS].count_documents({}) == 0
    assert await db[OUTBOX].count_documents({}) == 0

    async def published() -> bool:
        document = await db[ENTRIES].find_one({"_id": entry.id})
        return document is not None and EVENTS not in document and EVENTS_SEQ not in document

    await eventually(published)
    events = await checkin_events(nats_client, ns, "rel1")
    assert [e["data"]["checkin_id"] for e in events] == [entry.id]
    assert "tired" not in str(events)


async def test_repeats_sent_at_once_record_one_entry_and_all_get_its_answer(
    checkin, alice: Member, nats_client
):
    db, ns = checkin.db, checkin.settings.namespace
    answers = await asyncio.gather(*(
        send(alice, "log_touch", "same", kind="hug", sexual=False) for _ in range(8)
    ))  # fmt: skip
    assert len({entry.id for entry, _replayed in answers}) == 1
    assert sorted(replayed for _entry, replayed in answers) == [False] + [True] * 7
    assert await db[ENTRIES].count_documents({"kind": "touch"}) == 1

    async def once() -> bool:
        return len(await checkin_events(nats_client, ns, "rel1")) == 1

    await eventually(once)


async def test_concurrent_answers_to_one_bid_change_it_once(
    checkin, alice: Member, bo: Member, nats_client
):
    db, ns = checkin.db, checkin.settings.namespace
    bid = await alice.cmd("make_bid", to_member_id="bo", kind="humor", channel="message")
    outcomes = await asyncio.gather(
        *(send(bo, "answer_bid", f"answer-{i}", bid_id=bid.id, response="toward")
          for i in range(6)),
        return_exceptions=True,
    )  # fmt: skip
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1, outcomes
    assert all(isinstance(e, Conflict) and e.code == "bid_already_answered" for e in lost), lost
    stored = await db[ENTRIES].find_one({"_id": bid.id})
    assert stored is not None and stored["version"] == 2 and len(stored["commands"]) == 2

    async def answered_once() -> bool:
        types = [e["type"] for e in await checkin_events(nats_client, ns, "rel1")]
        return types == ["bid.made", "bid.answered"]

    await eventually(answered_once)


async def test_a_repeat_gets_its_first_answer_even_when_the_rules_would_now_refuse(
    checkin, alice: Member, bo: Member
):
    boundary = await alice.cmd("propose_boundary", kind="tech", rule="no phones")
    await bo.cmd("accept_boundary", boundary_id=boundary.id)
    breach, first = await send(bo, "report_breach", "breach-1", boundary_id=boundary.id)
    assert first is False
    await alice.cmd("retire_boundary", boundary_id=boundary.id)
    again, replayed = await send(bo, "report_breach", "breach-1", boundary_id=boundary.id)
    assert replayed is True and again == breach
    try:
        await send(bo, "report_breach", "breach-2", boundary_id=boundary.id)
    except Conflict as refused:
        assert refused.code == "boundary_not_active"
    else:
        raise AssertionError("a new breach of a retired boundary was accepted")


async def test_a_command_id_reused_for_another_request_is_refused(checkin, alice: Member):
    await send(alice, "log_touch", "k", kind="hug", sexual=False)
    try:
        await send(alice, "log_touch", "k", kind="kiss", sexual=False)
    except Conflict as refused:
        assert refused.code == "idempotency_key_reused"
    else:
        raise AssertionError("a reused command id was answered")


async def test_a_write_whose_answer_was_lost_is_decided_again_and_stored_once(
    alice: Member, checkin, monkeypatch
):
    # The insert lands, then the connection breaks before its answer (as seen under the API
    # fuzzer): the command still answers with its entry, and there is one entry, not two.
    from pymongo.errors import AutoReconnect

    from services.checkin import store

    real_insert, lost = store.insert_entry, []

    async def insert_then_lose_the_answer(db, document):
        await real_insert(db, document)
        if not lost:
            lost.append(document["_id"])
            raise AutoReconnect("connection closed")

    monkeypatch.setattr(store, "insert_entry", insert_then_lose_the_answer)
    entry = await alice.cmd("log_touch", command_id="lost-answer", kind="hug", sexual=False)
    assert lost == [entry.id]
    assert await checkin.db[ENTRIES].count_documents({}) == 1
