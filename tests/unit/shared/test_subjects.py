"""Subjects keep owner, relationship and type in fixed places."""

from __future__ import annotations

import pytest

from shared.subjects import (
    NO_RELATIONSHIP,
    command_subject,
    dead_letter_subject,
    event_subject,
    owner_events,
    parse_event_subject,
    stream_name,
)


def test_event_subject_names_owner_relationship_and_type():
    subject = event_subject("attune", "checkin", "r42", "bid.answered")
    assert subject == "attune.checkin.evt.r42.bid.answered"
    assert parse_event_subject("attune", subject) == ("checkin", "r42", "bid.answered")


def test_member_level_events_use_the_placeholder():
    assert (
        event_subject("attune", "gateway", None, "member.erased").split(".")[3] == NO_RELATIONSHIP
    )


@pytest.mark.parametrize("bad", ["a.b", "*", ">", "has space", ""])
def test_ids_that_would_break_a_subject_are_refused(bad: str):
    with pytest.raises(ValueError, match="cannot be used in a subject"):
        event_subject("attune", "checkin", bad, "bid.made")


def test_names_of_streams_and_other_subjects():
    assert owner_events("attune", "insights") == "attune.insights.evt.>"
    assert stream_name("attune", "checkin") == "ATTUNE_CHECKIN"
    assert command_subject("attune", "checkin", "log_checkin") == "attune.cmd.checkin.log_checkin"
    assert dead_letter_subject("attune", "scheduler") == "attune.dlq.scheduler"
