"""What each command decides to write, publish and reply: pure functions, no I/O."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest

from services.checkin import domain
from services.checkin.mapping import Context
from services.checkin.sealing import unseal
from shared.messages.checkin_rpc import AnswerBid, LogCheckin, LogRepair, LogTime, MakeBid
from shared.problems import Conflict, Forbidden

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = os.urandom(32)


def ctx(actor: str = "a", command_id: str = "cmd-1") -> Context:
    return Context(actor, "r1", frozenset({"a", "b"}), NOW, command_id, "corr", KEY)


def test_a_checkin_is_one_new_document_whose_id_comes_from_the_command():
    cmd = LogCheckin(mood=4, connection=7, note="you always listen", visibility="shared")
    first = domain.log_checkin(ctx(), cmd)
    again = domain.log_checkin(ctx(), cmd)
    other = domain.log_checkin(ctx(command_id="cmd-2"), cmd)
    # A repeat of the command collides with the first document; another command does not.
    assert first.document["_id"] == again.document["_id"] != other.document["_id"]
    assert first.result.id == first.document["_id"]
    assert first.on_duplicate is None and first.follow_up is None
    (envelope,) = first.events
    assert envelope.type == "checkin.logged" and envelope.causation_id == "cmd-1"
    assert envelope.data["criticism"] is True
    # The note is sealed in the document and the event; only the author's key opens it.
    stored = first.document["fields"]["note"]
    assert "listen" not in json.dumps(first.document["fields"], default=str)
    assert "listen" not in envelope.to_json().decode()
    assert envelope.data["note"] == stored
    opened = unseal(KEY, "r1", "a", first.document["_id"], "checkin", first.document["fields"])
    assert opened["note"] == "you always listen"
    assert (
        unseal(None, "r1", "a", first.document["_id"], "checkin", first.document["fields"])["note"]
        is None
    )


def bid_document() -> dict:
    made = domain.make_bid(ctx(), MakeBid(to_member_id="b", kind="humor", channel="message"))
    return {**made.document, "version": 3}


def test_answering_a_bid_is_a_change_guarded_by_the_version_it_was_read_at():
    bid = bid_document()
    answer = AnswerBid(bid_id=bid["_id"], response="toward")
    change = domain.answer_bid(ctx("b", "cmd-3"), answer, bid)
    assert isinstance(change, domain.Change)
    assert (change.entry_id, change.version) == (bid["_id"], 3)
    assert change.set_fields["state.status"] == "answered"
    assert change.set_fields["state.response"] == "toward"
    assert change.result.fields["status"] == "answered"
    assert [e.type for e in change.events] == ["bid.answered"]
    with pytest.raises(Forbidden):
        domain.answer_bid(ctx("a"), answer, bid)  # only its target answers
    answered = {**bid, "state": {"status": "answered"}}
    with pytest.raises(Conflict):
        domain.answer_bid(ctx("b"), answer, answered)


def test_a_repair_is_one_per_conflict_and_marks_the_conflict_after():
    conflict = {
        "_id": "c1",
        "relationship_id": "r1",
        "kind": "conflict",
        "author_id": "a",
        "visibility": "private",
        "occurred_at": NOW - timedelta(hours=1),
        "recorded_at": NOW,
        "fields": {},
        "state": {"repaired": False},
        "version": 1,
    }
    repair = LogRepair(conflict_id="c1", felt="connected")
    first = domain.log_repair(ctx(command_id="x"), repair, conflict)
    second = domain.log_repair(ctx(command_id="y"), repair, conflict)
    assert first.document["_id"] == second.document["_id"]  # a second repair collides
    assert first.document["visibility"] == "private"  # as private as its conflict
    assert first.follow_up == ("c1", {"state.repaired": True})
    assert isinstance(first.on_duplicate, Conflict)
    assert first.on_duplicate.code == "conflict_already_repaired"
    with pytest.raises(Conflict):
        domain.log_repair(ctx(), repair, {**conflict, "state": {"repaired": True}})


def test_one_time_log_per_member_and_day():
    day = LogTime(date=date(2026, 11, 25), screen_minutes=30, face_to_face_minutes=60)
    first = domain.log_time(ctx(command_id="x"), day)
    assert first.document["_id"] == domain.log_time(ctx(command_id="y"), day).document["_id"]
    assert first.document["_id"] != domain.log_time(ctx("b"), day).document["_id"]
    assert isinstance(first.on_duplicate, Conflict)
    assert first.on_duplicate.code == "already_recorded"
