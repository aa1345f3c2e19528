"""Trust at the edges of a relationship: self-reports stay with their author, a member who
leaves takes their webhooks and invites along, the live stream replays only what the caller
may still see, and an erased member leaves nothing readable anywhere."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.gateway.routes.stream import seal_position
from services.gateway.settings import DEVELOPMENT_WEBHOOK_KEY
from services.insights import store
from services.scheduler.store import CHECKINS
from shared import crypto
from shared.envelope import Visibility
from shared.messages.base import new_event, subject_of
from shared.messages.checkin import CheckinLogged
from shared.nats import MSG_ID_HEADER
from shared.subjects import SERVICES, database_name
from tests.e2e.test_privacy_at_rest import log_every_kind, mark
from tests.support.api import Person, couple, sign_up
from tests.support.live import listen
from tests.support.receiver import Receiver
from tests.support.sweep import Stored, everything
from tests.support.waiting import eventually

SIGNAL_WORDS = ("signals", "held_back", "confided_elsewhere", "criticism")


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start() -> Receiver:
        started.append(Receiver().start())
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


async def subscribe(person: Person, rid: str, url: str, types: list[str] | None = None) -> dict:
    return await person.ok("POST", f"/v1/relationships/{rid}/webhooks",
                           {"url": url, "event_types": types or []})  # fmt: skip


def subjects_received(receiver: Receiver) -> list[str]:
    return [str(json.loads(r.body).get("subject")) for r in receiver.received]


def saw(subject: str) -> Callable[[list[dict]], bool]:
    return lambda events: any(e["data"].get("subject") == subject for e in events)


def forged_id(rid: str, member: Person, positions: dict[str, int], at: datetime) -> str:
    """An id as the gateway seals it (the test system runs on the development key): what
    the strongest client could send."""
    return seal_position(crypto.unb64(DEVELOPMENT_WEBHOOK_KEY), rid, member.id, positions, at)


async def erase(http, person: Person) -> None:
    erased = await person.http.delete("/v1/me", headers=person.headers)
    assert erased.status_code == 202

    async def complete() -> bool:
        return bool((await http.get(erased.json()["status_url"])).json()["complete"])

    await eventually(complete, timeout=60)


# -- self-reports stay with their author -------------------------------------------------


async def test_signals_on_a_shared_checkin_reach_no_one_but_their_author(http, receivers):
    rid, (kai, lou) = await couple(http, "Kai", "Lou")
    base = f"/v1/relationships/{rid}"
    receiver = receivers()
    await subscribe(lou, rid, receiver.url, ["checkin.logged"])
    opened = asyncio.Event()
    listening = asyncio.create_task(
        listen(lou, rid, lambda events: len(events) >= 3, opened=opened)
    )
    await asyncio.wait_for(opened.wait(), 30)
    logged = []
    for _ in range(3):  # three self-reports in 14 days raise the author's own flag
        logged.append(await kai.ok("POST", f"{base}/checkins", {
            "mood": 2, "connection": 4, "visibility": "shared", "note": "you never listen",
            "signals": {"held_back": True, "confided_elsewhere": True}}))  # fmt: skip
    ids = {e["id"] for e in logged}

    streamed = await asyncio.wait_for(listening, 30)
    assert {e["data"]["subject"] for e in streamed} >= ids
    await eventually(lambda: set(subjects_received(receiver)) >= ids, timeout=30)
    partner_timeline = await lou.ok("GET", f"{base}/timeline")
    assert {e["id"] for e in partner_timeline["entries"]} >= ids  # shared: Lou sees them
    partner_export = await lou.ok("GET", "/v1/me/export")
    own_timeline = await kai.ok("GET", f"{base}/timeline")

    seen_by_partner = {
        "timeline": json.dumps(partner_timeline),
        "stream": json.dumps(streamed),
        "webhook": b"".join(r.body for r in receiver.received).decode(),
        "export": json.dumps(partner_export),
    }
    leaks = {where: w for where, text in seen_by_partner.items() for w in SIGNAL_WORDS
             if w in text}  # fmt: skip
    assert leaks == {}
    # Kai sees their own self-reports, so the checks above look where they would show.
    assert "held_back" in json.dumps(own_timeline)

    async def flags(person: Person) -> set[str]:
        return {f["code"] for f in (await person.ok("GET", f"{base}/insights"))["flags"]}

    await eventually(lambda: _has(flags(kai), {"withholding", "confiding_elsewhere"}), 30)
    assert not (await flags(lou)) & {"withholding", "confiding_elsewhere"}


async def _has(found: Any, wanted: set[str]) -> bool:
    return wanted <= await found


# -- leaving takes everything with it ----------------------------------------------------


async def test_a_leaver_takes_their_webhook_and_invites_along(http, receivers):
    rid, (max_, ned) = await couple(http, "Max", "Ned")
    base = f"/v1/relationships/{rid}"
    neds, maxs = receivers(), receivers()
    await subscribe(ned, rid, neds.url)
    await subscribe(max_, rid, maxs.url)
    old_invite = await ned.ok("POST", f"{base}/invites")
    kept_invite = await max_.ok("POST", f"{base}/invites")
    pending = await max_.ok("GET", f"{base}/invites")
    assert {i["id"] for i in pending} == {old_invite["id"], kept_invite["id"]}
    assert "code" not in json.dumps(pending)
    before = await max_.ok("POST", f"{base}/touches",
                           {"kind": "hug", "sexual": False, "visibility": "shared"})  # fmt: skip
    await eventually(lambda: before["id"] in subjects_received(neds), timeout=30)

    await ned.ok("DELETE", f"{base}/members/me", status=204)
    after = await max_.ok("POST", f"{base}/checkins",
                          {"mood": 4, "connection": 7, "visibility": "shared"})  # fmt: skip
    # Max's own endpoint getting it shows the deliveries went round; Ned's got nothing new.
    await eventually(lambda: after["id"] in subjects_received(maxs), timeout=30)
    assert after["id"] not in subjects_received(neds)
    assert [w["url"] for w in await max_.ok("GET", f"{base}/webhooks")] == [maxs.url]

    assert [i["id"] for i in await max_.ok("GET", f"{base}/invites")] == [kept_invite["id"]]
    newcomer = await sign_up(http, "Ola")
    refused = await newcomer.post(f"/v1/invites/{old_invite['code']}/accept")
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    rejoin = await ned.post(f"/v1/invites/{old_invite['code']}/accept")
    assert rejoin.status_code == 404

    await max_.ok("DELETE", f"{base}/invites/{kept_invite['id']}", status=204)
    assert (await newcomer.post(f"/v1/invites/{kept_invite['code']}/accept")).status_code == 404
    unknown = await max_.delete(f"{base}/invites/{uuid.uuid4().hex}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


# -- the live stream replays only what the caller may still see ----------------------------


async def test_a_replay_from_position_zero_shows_no_erased_member_and_nothing_before_joining(
    http,
):
    rid, (pia, quin) = await couple(http, "Pia", "Quin")
    base = f"/v1/relationships/{rid}"
    before = await quin.ok("POST", f"{base}/touches",
                           {"kind": "hug", "sexual": False, "visibility": "shared"})  # fmt: skip
    rae = await sign_up(http, "Rae")  # joins after that touch
    invite = await pia.ok("POST", f"{base}/invites")
    await rae.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    erased_entry = await pia.ok("POST", f"{base}/checkins",
                                {"mood": 5, "connection": 9, "visibility": "shared"})  # fmt: skip
    kept = await quin.ok("POST", f"{base}/touches",
                         {"kind": "kiss", "sexual": False, "visibility": "shared"})  # fmt: skip
    await erase(http, pia)
    marker = await quin.ok("POST", f"{base}/touches",
                           {"kind": "cuddle", "sexual": False, "visibility": "shared"})  # fmt: skip

    zero = forged_id(rid, rae, dict.fromkeys(SERVICES, 0), datetime.now(UTC))
    replayed = await asyncio.wait_for(listen(rae, rid, saw(marker["id"]), zero), 30)
    subjects = [e["data"].get("subject") for e in replayed]
    assert kept["id"] in subjects
    assert before["id"] not in subjects and erased_entry["id"] not in subjects
    # Nothing Pia did or that is about her (her id may stay in the others' membership lists).
    about_pia = [e for e in replayed if pia.id in (
        e["data"].get("actorid"), e["data"]["data"].get("author_id"),
        e["data"]["data"].get("member_id"))]  # fmt: skip
    assert about_pia == []
    assert "reset" not in [e.get("event") for e in replayed]

    # An id is opaque, bound to its member and relationship, and cannot be made up.
    assert all(str(pia.id) not in e["id"] and "{" not in e["id"] for e in replayed)
    theirs = await quin.get(f"{base}/stream", headers={"Last-Event-ID": replayed[-1]["id"]})
    assert theirs.status_code == 422
    plain = await rae.get(f"{base}/stream", headers={"Last-Event-ID": "eyJjaGVja2luIjogMH0="})
    assert plain.status_code == 422


async def test_an_id_older_than_the_horizon_resumes_at_the_horizon_with_a_reset(http):
    rid, (sam, tia) = await couple(http, "Sam", "Tia")
    base = f"/v1/relationships/{rid}"
    fresh = await sam.ok("POST", f"{base}/touches",
                         {"kind": "hug", "sexual": False, "visibility": "shared"})  # fmt: skip
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    old = forged_id(rid, tia, dict.fromkeys(SERVICES, 0), two_days_ago)
    replayed = await asyncio.wait_for(listen(tia, rid, saw(fresh["id"]), old), 30)
    assert replayed[0]["event"] == "reset"
    assert fresh["id"] in [e["data"].get("subject") for e in replayed]


# -- tombstones ------------------------------------------------------------------------------


async def test_a_late_checkin_of_an_erased_member_creates_nothing_anywhere(
    http, system, servers, nats_client, receivers
):
    rid, (uli, vic) = await couple(http, "Uli", "Vic")
    await uli.ok("POST", f"/v1/relationships/{rid}/checkins",
                 {"mood": 3, "connection": 5, "visibility": "shared"})  # fmt: skip
    await erase(http, uli)
    ns = system.namespace
    client: AsyncMongoClient = AsyncMongoClient(servers.mongo_url, tz_aware=True)

    async def holds(member_id: str) -> list[str]:
        found = []
        for service in ("insights", "scheduler"):
            db = client[f"{ns}_{service}"]
            for name in await db.list_collection_names():
                if name in ("tombstones", "processed_events", "outbox"):
                    continue
                async for document in db[name].find({}):
                    if member_id in json.dumps(document, default=str):
                        found.append(f"{service}.{name}")
        return found

    assert await holds(uli.id) == []
    js = nats_client.jetstream()

    async def publish(author: str, checkin_id: str) -> None:
        data = CheckinLogged(checkin_id=checkin_id, author_id=author,
                             occurred_at=datetime.now(UTC), mood=1, connection=2)  # fmt: skip
        envelope = new_event(data, relationship_id=rid, actor_id=author,
                             visibility=Visibility.SHARED, subject=checkin_id)  # fmt: skip
        await js.publish(subject_of(ns, envelope), envelope.to_json(),
                         headers={MSG_ID_HEADER: envelope.id})  # fmt: skip

    vics = receivers()
    await subscribe(vic, rid, vics.url)
    late = uuid.uuid4().hex
    await publish(uli.id, late)  # late: after the erasure
    canary = uuid.uuid4().hex
    await publish(vic.id, canary)  # behind it on the same stream and the same consumers

    async def caught_up() -> bool:
        insights = client[database_name(ns, "insights")]
        scheduler = client[database_name(ns, "scheduler")]
        seen_insights = len(await store.load_days(insights, rid, member_id=vic.id)) > 0
        checked_in = [d["_id"] async for d in scheduler[CHECKINS].find({})]
        return seen_insights and any(key.startswith(vic.id) for key in checked_in)

    await eventually(caught_up, timeout=30)
    assert await holds(uli.id) == []
    # Nor does it leave through the partner's webhook, which the canary reached.
    await eventually(lambda: canary in subjects_received(vics), timeout=30)
    assert late not in subjects_received(vics)
    await client.close()


# -- erasure leaves nothing readable anywhere ------------------------------------------------


BOOKKEEPING = ("tombstones",)  # erased ids and when: what keeps late events from counting


def erased_members_things(stored: list[Stored], member_id: str) -> list[str]:
    """Where the member's id is still stored, anywhere in a document or a message (keys and
    values), outside the few places a record that is not theirs may name them."""
    found = []
    for item in stored:
        if item.where.rsplit(".", 1)[-1] in BOOKKEEPING or not item.holds(member_id):
            continue
        if CARRIES_ERASURE.search(item.text):
            continue  # member.erased, member_left, *.erasure_confirmed (ids only), wherever kept
        text = MEMBERSHIP_LIST.sub("", item.text)
        if item.where.endswith("_checkin.entries"):
            text = re.sub(PARTNER_REFERENCE.format(member_id), "", text)
        if member_id in text:
            found.append(f"{item.where}: {item.text[:600]}")
    return found


CARRIES_ERASURE = re.compile(
    r'"type\\?"\s*:\s*\\?"(relationship\.member_left|relationship\.erased|member\.erased'
    r"|[a-z]+\.erasure_confirmed)"
)
# The others' membership of a relationship, as the events that build memberships carry it.
MEMBERSHIP_LIST = re.compile(r'(?<![a-z_])members\\?"?\s*:\s*\[[^\]]*\]')
# A partner's own entry keeps whom it was about: the target of their bid, who accepted their
# boundary or is awaited on it (only there: never on a stream or in a delivery).
PARTNER_REFERENCE = (
    r'(?<![a-z_])(?:to_member_id|accepted_by|awaiting)"?\s*:\s*(?:\[[^\]]*\]|"?{}"?)'
)


async def test_after_erasure_nothing_of_the_member_is_readable_in_any_database_or_stream(
    http, system, servers, nats_client, receivers
):
    rid, (wes, xan) = await couple(http, "Wes", "Xan")  # Wes made it and is erased
    base = f"/v1/relationships/{rid}"
    receiver = receivers()
    await subscribe(xan, rid, receiver.url)
    await subscribe(wes, rid, receivers().url)
    await wes.ok("POST", f"{base}/invites")
    wes_texts = await log_every_kind(wes, xan, rid)
    xan_texts = await log_every_kind(xan, wes, rid)
    # Wes also was in a second relationship with Xan, and left it before being erased.
    left_rid = (await xan.ok("POST", "/v1/relationships", {"name": "before"}))["id"]
    invite = await xan.ok("POST", f"/v1/relationships/{left_rid}/invites")
    await wes.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    left_texts = await log_every_kind(wes, xan, left_rid)
    await wes.ok("POST", f"/v1/relationships/{left_rid}/touches",
                 {"kind": "sex", "sexual": True, "minutes": 9, "visibility": "shared"})  # fmt: skip
    window = {"start": "19:00", "end": "20:00", "days": ["mo", "th"], "timezone": "UTC"}
    windowed = await wes.ok("POST", f"{base}/boundaries",
                            {"kind": "tech", "rule": mark(), "window": window})  # fmt: skip
    await xan.ok("POST", f"{base}/boundaries/{windowed['id']}/accept", status=200)
    rituals = [await wes.ok("GET", f"/v1/relationships/{r}/rituals") for r in (rid, left_rid)]
    wes_created = [e["id"] for found in rituals for e in found["entries"]
                   if e["author_id"] == wes.id] + [windowed["id"]]  # fmt: skip
    assert len(wes_created) == 3
    assert (await wes.delete(f"/v1/relationships/{left_rid}/members/me")).status_code == 204
    signals = {"held_back": True, "confided_elsewhere": True}
    await wes.post(f"{base}/checkins", {"mood": 1, "connection": 2, "signals": signals},
                   key="wes-retry-1")  # fmt: skip
    await wes.post(f"{base}/checkins", {"mood": 1, "connection": 2, "signals": signals},
                   key="wes-retry-1")  # fmt: skip
    await wes.ok("PATCH", "/v1/me", {"checkin_reminder_time": "21:15"})
    last = await wes.ok("POST", f"{base}/touches", {"kind": "sex", "sexual": True, "minutes": 7,
                                                     "visibility": "shared"})  # fmt: skip
    await eventually(lambda: last["id"] in subjects_received(receiver), timeout=30)

    await erase(http, wes)
    canary_body = {"mood": 4, "connection": 8, "note": mark(), "visibility": "shared"}
    canary = await xan.ok("POST", f"{base}/checkins", canary_body)
    await eventually(lambda: canary["id"] in subjects_received(receiver), timeout=30)

    stored = await everything(servers.mongo_url, system.namespace, nats_client)
    leftovers = erased_members_things(stored, wes.id)
    assert leftovers == [], "\n".join(leftovers)
    texts = {**wes_texts, **{f"left {n}": t for n, t in left_texts.items()}}
    assert [n for n, t in texts.items() if any(i.holds(t) for i in stored)] == []
    # The rituals and the boundary window Wes created no longer fire for Xan: the scheduler
    # keeps nothing of them (Xan's own records may still name the ids: Xan accepted one).
    scheduler = f"{system.namespace}_scheduler."
    assert [i.where for i in stored if i.where.startswith(scheduler)
            and any(i.holds(r) for r in wes_created)] == []  # fmt: skip
    # The partner's own entries are intact, and readable to them.
    timeline = json.dumps(await xan.ok("GET", f"{base}/timeline?limit=200"))
    dates = json.dumps(await xan.ok("GET", f"{base}/dates"))  # a date's plan is not an entry
    assert [name for name, text in xan_texts.items() if text not in timeline + dates] == []
    checkin_entries = [i for i in stored if i.where == f"{system.namespace}_checkin.entries"]
    assert sum(i.holds(xan.id) for i in checkin_entries) >= 10
