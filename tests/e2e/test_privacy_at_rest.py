"""Privacy end to end: no plain text at rest or on the stream, erasure everywhere, export."""

from __future__ import annotations

import json
import uuid

import pytest
from bson import json_util
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient

from services.checkin.keyring import Keyring
from services.checkin.settings import DEVELOPMENT_MASTER_KEYS
from services.insights import store
from shared import crypto
from shared.subjects import database_name, stream_name
from tests.support.api import Person, couple
from tests.support.streams import read_subject
from tests.support.waiting import eventually


def mark() -> str:
    return f"secret-{uuid.uuid4().hex[:12]}"


async def log_every_kind(person: Person, partner: Person, rid: str) -> dict[str, str]:
    """One entry of every kind, each free-text field carrying its own unique marker."""
    base = f"/v1/relationships/{rid}"
    texts = {k: mark() for k in ("note", "gratitude", "feeling", "topic", "rule", "breach",
                                 "title", "reason", "plan")}  # fmt: skip
    await person.ok("POST", f"{base}/checkins", {
        "mood": 3, "connection": 6, "note": texts["note"], "gratitude": texts["gratitude"],
        "feelings": [texts["feeling"]], "visibility": "shared"})  # fmt: skip
    bid = await person.ok("POST", f"{base}/bids", {"to_member_id": partner.id, "kind": "help",
                                                    "channel": "call"})  # fmt: skip
    await partner.ok("POST", f"{base}/bids/{bid['id']}/answer", {"response": "toward"}, 200)
    await person.ok("POST", f"{base}/touches", {"kind": "hug", "sexual": False})
    await person.ok("POST", f"{base}/time-logs", {"date": "2026-11-20", "screen_minutes": 10,
                                                   "face_to_face_minutes": 90})  # fmt: skip
    boundary = await person.ok(
        "POST", f"{base}/boundaries", {"kind": "other", "rule": texts["rule"]}
    )
    await partner.ok("POST", f"{base}/boundaries/{boundary['id']}/accept", status=200)
    await person.ok(
        "POST", f"{base}/boundaries/{boundary['id']}/breaches", {"note": texts["breach"]}
    )
    body = {"topic": texts["topic"], "intensity": 2, "visibility": "shared"}
    conflict = await person.ok("POST", f"{base}/conflicts", body)
    await person.ok("POST", f"{base}/conflicts/{conflict['id']}/repair", {"felt": "connected"})
    await person.ok("POST", f"{base}/assessments", {"answers": [True] * 10})
    ritual = await person.ok("POST", f"{base}/rituals", {
        "title": texts["title"], "rrule": "FREQ=DAILY", "timezone": "UTC",
        "starts_at": "2026-11-01T08:00:00", "duration_minutes": 30})  # fmt: skip
    outcome = {
        "occurrence": "2026-11-20T08:00:00Z",
        "outcome": "skipped",
        "reason": texts["reason"],
    }
    await person.ok("POST", f"{base}/rituals/{ritual['id']}/outcomes", outcome)
    await person.ok("POST", f"{base}/dates", {
        "starts_at": "2028-01-05T19:00:00+01:00", "timezone": "Europe/Berlin",
        "duration_minutes": 60, "kind": "video", "plan": texts["plan"]})  # fmt: skip
    return texts


async def everything_stored(servers, namespace: str, nats_client) -> str:
    """Every MongoDB document and every JetStream message of this system, as one text."""
    parts: list[str] = []
    client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url)
    for name in await client.list_database_names():
        if name.startswith(namespace):
            for collection in await client[name].list_collection_names():
                async for document in client[name][collection].find({}):
                    parts.append(json_util.dumps(document))
    await client.close()
    js = nats_client.jetstream()
    for info in await js.streams_info():
        stream = info.config.name or ""
        if stream.lower().startswith(namespace) and info.state.messages:
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    message = await js.get_msg(stream, sequence)
                except NotFoundError:  # deleted by an erasure: nothing left to read
                    continue
                parts.append(message.data.decode(errors="replace") if message.data else "")
                parts.append(json.dumps(message.headers or {}))
    return "\n".join(parts)


async def test_no_free_text_is_stored_or_published_in_the_clear(http, system, servers, nats_client):
    rid, (ana, bo) = await couple(http, "Ana", "Bo")
    texts = await log_every_kind(ana, bo, rid)
    timeline = json.dumps(await bo.ok("GET", f"/v1/relationships/{rid}/timeline?limit=200"))
    assert texts["note"] in timeline and texts["rule"] in timeline  # members read it decrypted

    async def published() -> bool:  # wait until the outbox and consumers have caught up
        dump = await everything_stored(servers, system.namespace, nats_client)
        return "ritual.skipped" in dump

    await eventually(published, timeout=30)
    dump = await everything_stored(servers, system.namespace, nats_client)
    leaked = [name for name, text in texts.items() if text in dump]
    assert leaked == []


async def test_erasure_reaches_every_service_and_shreds_old_copies(
    http, system, servers, nats_client
):
    rid, (cy, di) = await couple(http, "Cy", "Di")
    base = f"/v1/relationships/{rid}"
    mine = await cy.ok("POST", f"{base}/checkins", {"mood": 2, "connection": 4, "note": mark(),
                                                     "visibility": "shared"})  # fmt: skip
    await cy.ok("POST", f"{base}/checkins", {"mood": 2, "connection": 4,
                                             "signals": {"held_back": True}})  # fmt: skip
    theirs = await di.ok("POST", f"{base}/checkins", {"mood": 5, "connection": 9,
                                                       "visibility": "shared"})  # fmt: skip
    await cy.ok("PATCH", "/v1/me", {"checkin_reminder_time": "20:00"})
    plan = mark()
    date = await cy.ok("POST", f"{base}/dates", {
        "starts_at": "2028-01-05T19:00:00+01:00", "timezone": "Europe/Berlin",
        "duration_minutes": 60, "kind": "call", "plan": plan})  # fmt: skip
    assert date["plan"] == plan
    client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url, tz_aware=True)
    ns = system.namespace

    async def old_copy() -> dict | None:  # Cy's check-in as published (a copy kept elsewhere)
        copies = await read_subject(nats_client, stream_name(ns, "checkin"),
                                    f"{ns}.checkin.evt.{rid}.checkin.logged")  # fmt: skip
        return next((c for c in copies if c["data"]["author_id"] == cy.id
                     and c["data"].get("note")), None)  # fmt: skip

    old = await eventually(old_copy)

    erased = await cy.http.delete("/v1/me", headers=cy.headers)
    assert erased.status_code == 202
    assert (await cy.get("/v1/me")).status_code == 401  # at once
    status_url = erased.json()["status_url"]

    async def complete() -> bool:
        return bool((await http.get(status_url)).json()["complete"])

    await eventually(complete, timeout=30)
    assert (
        await client[database_name(ns, "checkin")].entries.count_documents({"author_id": cy.id})
        == 0
    )
    assert (
        await client[database_name(ns, "checkin")].data_keys.count_documents({"member_id": cy.id})
        == 0
    )
    assert await store.load_days(client[database_name(ns, "insights")], member_id=cy.id) == []
    assert (
        await client[database_name(ns, "scheduler")].member_settings.count_documents({"_id": cy.id})
        == 0
    )
    assert (
        await client[database_name(ns, "scheduler")].data_keys.count_documents({"member_id": cy.id})
        == 0
    )
    (left,) = (await di.ok("GET", f"{base}/dates"))["dates"]
    assert left["plan"] is None and cy.id not in json.dumps(left)  # shredded, and no trace of Cy
    assert await client[database_name(ns, "gateway")].members.count_documents({"_id": cy.id}) == 0
    timeline = await di.ok("GET", f"{base}/timeline")
    assert [e["id"] for e in timeline["entries"]] == [theirs["id"]]
    assert mine["id"] not in json.dumps(timeline)

    # A copy of an old event (from the stream) stays unreadable:
    # Cy's key is gone, and no other key opens it.
    keyring = Keyring(
        client[database_name(ns, "checkin")], crypto.MasterKeys.parse(DEVELOPMENT_MASTER_KEYS)
    )
    assert await keyring.existing_key(rid, cy.id) is None
    other = await keyring.existing_key(rid, di.id)
    assert other is not None
    where = f"{rid}|{cy.id}|{old['data']['checkin_id']}|note"
    with pytest.raises(crypto.KeyUnavailable):
        crypto.decrypt_text(other, old["data"]["note"], where)
    await client.close()


async def test_export_holds_every_kind_of_record_i_made_and_none_of_my_partners_private_ones(http):
    rid, (eli, fay) = await couple(http, "Eli", "Fay")
    texts = await log_every_kind(eli, fay, rid)
    private = await fay.ok("POST", f"/v1/relationships/{rid}/checkins",
                           {"mood": 1, "connection": 2, "note": mark()})  # fmt: skip
    export = await eli.ok("GET", "/v1/me/export")
    kinds = {r["kind"] for r in export["records"]}
    assert kinds == {"checkin", "bid", "touch", "time_log", "boundary", "breach", "conflict",
                     "repair", "assessment", "ritual", "ritual_outcome"}  # fmt: skip
    assert private["id"] not in json.dumps(export)
    assert export["member"]["email"] == eli.email
    assert set(export) >= {"insights", "schedules", "relationships"}
    assert [d["plan"] for d in export["schedules"]["dates"]] == [texts["plan"]]


async def test_logs_of_a_journey_hold_no_text_tokens_passwords_or_emails(http, system):
    rid, (gil, hal) = await couple(http, "Gil", "Hal")
    texts = await log_every_kind(gil, hal, rid)
    await gil.post(f"/v1/relationships/{rid}/checkins", {"mood": 9, "note": texts["note"]})  # 422
    await http.post("/v1/auth/token", json={"email": gil.email, "password": "wrong password"})
    await gil.ok("GET", "/v1/me/export")
    secrets = {**texts, "gil email": gil.email, "hal email": hal.email, "gil token": gil.token,
               "hal token": hal.token, "password": "a long enough secret"}  # fmt: skip

    logs = "\n".join(p.read_text(errors="replace") for p in system.logs.glob("*.log"))
    assert logs  # the services do log
    assert [name for name, value in secrets.items() if value in logs] == []
