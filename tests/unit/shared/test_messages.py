"""Every event round-trips through JSON; readers are lenient with fields, strict with versions."""

from __future__ import annotations

import json

import pytest

from shared.envelope import Visibility
from shared.messages import (
    InvalidEvent,
    UnknownEventType,
    UnsupportedEventVersion,
    decode,
    known_events,
    new_event,
)
from shared.messages.base import EventData
from shared.messages.checkin import CheckinLogged
from tests.support.samples import SAMPLES

ALL_EVENTS = sorted(known_events().items())


def test_every_v1_event_named_in_the_design_has_a_model():
    named = {
        "checkin.logged", "bid.made", "bid.answered", "touch.logged", "time.logged",
        "boundary.proposed", "boundary.accepted", "boundary.activated", "boundary.retired",
        "boundary.breached", "conflict.logged", "repair.logged", "assessment.completed",
        "ritual.completed", "ritual.skipped", "reminder.due", "ritual.due", "ritual.missed",
        "boundary.window_opened", "boundary.window_closed", "review.due",
        "program.stage_started", "insight.flag_raised", "insight.flag_cleared",
        "insight.health_updated", "insight.recommendation", "member.erased",
    }  # fmt: skip
    assert named <= {event_type for event_type, _ in known_events()}


def test_every_registered_event_has_a_sample():
    assert {t for t, _ in known_events()} == set(SAMPLES)


@pytest.mark.parametrize(
    ("key", "model"), ALL_EVENTS, ids=[f"{t}.v{v}" for (t, v), _ in ALL_EVENTS]
)
def test_event_round_trips_through_json(key: tuple[str, int], model: type[EventData]):
    data = model.model_validate(SAMPLES[key[0]])
    envelope = new_event(data, relationship_id="r1", actor_id="m_alice", correlation_id="corr-1")
    decoded = decode(envelope.to_json())
    assert decoded.envelope == envelope
    assert decoded.data == data
    assert type(decoded.data) is model


def test_envelope_uses_cloudevents_attribute_names():
    data = CheckinLogged.model_validate(SAMPLES["checkin.logged"])
    event = new_event(
        data,
        relationship_id="r1",
        actor_id="m_alice",
        visibility=Visibility.PRIVATE,
        correlation_id="c",
        causation_id="d",
    )
    document = json.loads(event.to_json())
    assert document["specversion"] == "1.0"
    assert document["source"] == "attune/checkin"
    assert document["type"] == "checkin.logged"
    assert document["dataversion"] == 1
    assert document["dataschema"] == "urn:attune:event:checkin.logged:v1"
    assert document["relationshipid"] == "r1"
    assert document["actorid"] == "m_alice"
    assert document["visibility"] == "private"
    assert document["correlationid"] == "c"
    assert document["causationid"] == "d"


def _document(event_type: str = "bid.made", version: int = 1) -> dict:
    model = known_events()[(event_type, 1)]
    document = json.loads(
        new_event(
            model.model_validate(SAMPLES[event_type]), relationship_id="r1", actor_id="m_alice"
        ).to_json()
    )
    document["dataversion"] = version
    return document


def test_unknown_extra_fields_are_accepted_in_envelope_and_data():
    document = _document()
    document["someextension"] = "x"
    document["data"]["mood_of_the_day"] = "fine"
    decoded = decode(json.dumps(document))
    assert decoded.data.bid_id == "b1"  # type: ignore[attr-defined]


def test_unknown_version_is_rejected_with_a_clear_error():
    with pytest.raises(UnsupportedEventVersion, match=r"'bid.made' has no version 7.*versions 1"):
        decode(json.dumps(_document(version=7)))


def test_unknown_type_is_its_own_error():
    document = _document()
    document["type"] = "bid.teleported"
    with pytest.raises(UnknownEventType, match=r"unknown event type 'bid\.teleported'"):
        decode(json.dumps(document))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "x"}', "envelope invalid"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"pad": "' + b"x" * 300_000 + b'"}', "over the 262144-byte limit"),
    ],
)
def test_garbage_is_an_invalid_event_with_a_reason(raw: bytes, reason: str):
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw)


def test_schema_breaking_data_names_the_field():
    document = _document()
    document["data"]["channel"] = "carrier_pigeon"
    with pytest.raises(InvalidEvent, match=r"bid.made v1 data invalid: channel"):
        decode(json.dumps(document))


def test_an_event_claiming_another_owner_is_refused():
    document = _document()
    document["source"] = "attune/gateway"  # bid.made is the checkin service's
    with pytest.raises(InvalidEvent, match=r"bid.made events come from checkin"):
        decode(json.dumps(document))


class _SampleV2(EventData):
    owner = "checkin"
    event_type = "sample.noted"
    event_version = 2

    text: str
    mood: int


def test_an_upcaster_lifts_an_old_version_to_one_this_build_reads(monkeypatch):
    from shared.messages import base

    monkeypatch.setitem(base._MODELS, ("sample.noted", 2), _SampleV2)
    monkeypatch.setitem(base._UPCASTERS, ("sample.noted", 1), lambda d: {**d, "mood": 3})
    old = _document()
    old.update(type="sample.noted", dataversion=1, data={"text": "hi"})
    decoded = decode(json.dumps(old))
    assert decoded.data == _SampleV2(text="hi", mood=3)
