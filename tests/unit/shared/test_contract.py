"""The published contract is the code: every responder is in the catalog, and the catalog
lists nothing that no service answers."""

from __future__ import annotations

from typing import Any

from services.checkin.app import create_runtime as checkin_runtime
from services.insights.app import create_runtime as insights_runtime
from services.scheduler.app import create_runtime as scheduler_runtime
from shared import asyncapi
from shared.contract import OPERATIONS
from shared.messages.base import known_events


def _wired() -> set[tuple[str, str, str, Any]]:
    wired: set[tuple[str, str, str, Any]] = set()
    for factory in (checkin_runtime, scheduler_runtime, insights_runtime):
        runtime = factory()
        wired |= {(kind, runtime.name, name, model) for kind, name, model in runtime.responders}
    # The gateway runs in FastAPI, not from a service factory: it answers what every runtime does.
    wired |= {
        (op.kind, "gateway", op.name, op.request)
        for op in OPERATIONS
        if op.service == "gateway" and op.name in ("ping", "redrive_dead_letter")
    }
    return wired


def test_every_responder_is_in_the_catalog_with_the_payload_it_takes():
    catalog = {(op.kind, op.service, op.name, op.request) for op in OPERATIONS}
    assert _wired() == catalog


def test_the_asyncapi_document_has_every_event_and_every_operation():
    document = asyncapi.build("attune")
    addresses = {c["address"] for c in document["channels"].values()}
    for model in known_events().values():
        assert f"attune.{model.owner}.evt.{{relationship_id}}.{model.event_type}" in addresses
    for op in OPERATIONS:
        assert f"attune.{op.kind}.{op.service}.{op.name}" in addresses
    schemas = document["components"]["schemas"]
    assert {"Envelope", "Request", "Reply", "LogCheckin", "CheckinLogged"} <= set(schemas)
