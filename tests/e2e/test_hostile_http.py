"""Hostile HTTP against the running system: every one is a clear 4xx problem, never a 5xx or a leak.

Huge and endless bodies, deep JSON, text that is not UTF-8, numbers no one can store, bodies
that are not JSON, tampered tokens, ids from another relationship and hostile Idempotency-Keys.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.api import Person, couple, sign_up

LIMIT = 64 * 1024  # the gateway's default ATTUNE_MAX_BODY_BYTES
HOSTILE = "@@hostile@@"


def problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The response is a problem+json with one of these statuses; its body is returned."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert isinstance(body["type"], str) and body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == response.status_code
    return body


def leaks(text: str, secrets_: list[str]) -> list[str]:
    return [mark for mark in secrets_ if mark and mark in text]


@dataclass
class World:
    """Two relationships: A (Ada, Ben) and B (Cy, Dee), each with entries of every kind."""

    a: str
    ada: Person
    ben: Person
    a_bid: str  # made by Ben to Ada: Ada may answer it
    b: str
    cy: Person
    dee: Person
    b_entries: dict[str, str]  # kind -> id, in B
    a_entries: dict[str, str]  # kind -> id, in A
    b_secrets: list[str]
    a_secrets: list[str]


async def entries(first: Person, second: Person, rid: str, secret: str) -> dict[str, str]:
    base = f"/v1/relationships/{rid}"
    bid = await second.ok(
        "POST", f"{base}/bids", {"to_member_id": first.id, "kind": "humor", "channel": "call"}
    )
    boundary = await first.ok("POST", f"{base}/boundaries", {"kind": "tech", "rule": secret})
    conflict = await first.ok("POST", f"{base}/conflicts", {"topic": secret, "intensity": 2})
    ritual = await first.ok(
        "POST", f"{base}/rituals",
        {"title": secret, "rrule": "FREQ=DAILY", "timezone": "UTC",
         "starts_at": "2026-11-01T10:00:00Z", "duration_minutes": 5},
    )  # fmt: skip
    checkin = await first.ok(
        "POST",
        f"{base}/checkins",
        {"mood": 4, "connection": 7, "note": secret, "visibility": "shared"},
    )
    hook = await first.ok("POST", f"{base}/webhooks",
                          {"url": "http://127.0.0.1:9/hook", "event_types": []})  # fmt: skip
    return {
        "bid": bid["id"], "boundary": boundary["id"], "conflict": conflict["id"],
        "ritual": ritual["id"], "checkin": checkin["id"], "webhook": hook["id"],
    }  # fmt: skip


@pytest.fixture(scope="module")
async def world(system) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=system.api, timeout=30) as client:
        a, (ada, ben) = await couple(client, "Ada", "Ben")
        b, (cy, dee) = await couple(client, "Cy", "Dee")
        a_text, b_text = "a-secret-" + uuid.uuid4().hex, "b-secret-" + uuid.uuid4().hex
        a_entries = await entries(ada, ben, a, a_text)
        b_entries = await entries(cy, dee, b, b_text)
        a_bid = (
            await ben.ok("POST", f"/v1/relationships/{a}/bids",
                         {"to_member_id": ada.id, "kind": "play", "channel": "message"})
        )["id"]  # fmt: skip

        def marks(rid: str, people: list[Person], found: dict[str, str], text: str) -> list[str]:
            """What must never reach an outsider: ids, emails, names and the text written."""
            names = [p.email.split("-")[0].capitalize() for p in people]
            return [rid, *found.values(), *(p.id for p in people), *(p.email for p in people),
                    *names, text]  # fmt: skip

        yield World(
            a, ada, ben, a_bid, b, cy, dee, b_entries, a_entries,
            b_secrets=marks(b, [cy, dee], b_entries, b_text),
            a_secrets=marks(a, [ada, ben], a_entries, a_text),
        )  # fmt: skip


# -- the representative endpoints -------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    body: Callable[[], dict[str, Any]]  # valid, with HOSTILE where a text field goes
    authed: bool = True

    def url(self, world: World) -> str:
        return self.path(world)

    def headers(self, world: World, extra: dict[str, str] | None = None) -> dict[str, str]:
        own = world.ada.headers if self.authed else {}
        return {**own, **(extra or {})}

    def raw(self, fragment: str) -> bytes:
        """The valid body with the raw JSON `fragment` in place of its text field."""
        return json.dumps(self.body()).replace(f'"{HOSTILE}"', fragment).encode()


def _signup() -> dict[str, Any]:
    email = f"h-{uuid.uuid4().hex[:10]}@example.org"
    return {"email": email, "password": "long enough secret", "display_name": HOSTILE,
            "timezone": "UTC"}  # fmt: skip


ENDPOINTS = [
    Endpoint("signup", "POST", lambda w: "/v1/auth/signup", _signup, authed=False),
    Endpoint("login", "POST", lambda w: "/v1/auth/token",
             lambda: {"email": "nobody@example.org", "password": HOSTILE}, authed=False),
    Endpoint("checkin", "POST", lambda w: f"/v1/relationships/{w.a}/checkins",
             lambda: {"mood": 3, "connection": 5, "note": HOSTILE}),
    Endpoint("answer", "POST", lambda w: f"/v1/relationships/{w.a}/bids/{w.a_bid}/answer",
             lambda: {"response": HOSTILE}),
    Endpoint("profile", "PATCH", lambda w: "/v1/me", lambda: {"display_name": HOSTILE}),
    Endpoint("webhook", "POST", lambda w: f"/v1/relationships/{w.a}/webhooks",
             lambda: {"url": HOSTILE, "event_types": []}),
]  # fmt: skip
BY_NAME = {e.name: e for e in ENDPOINTS}
endpoints = pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])


async def send(
    http: httpx.AsyncClient,
    world: World,
    endpoint: Endpoint,
    content: bytes | AsyncIterator[bytes] | None,
    content_type: str | None = "application/json",
    **kw: Any,
) -> httpx.Response:
    headers = endpoint.headers(world, kw.pop("headers", None))
    if content_type is not None:
        headers["content-type"] = content_type
    return await http.request(
        endpoint.method, endpoint.url(world), content=content, headers=headers, **kw
    )


# -- huge bodies ------------------------------------------------------------------------------


def padded(endpoint: Endpoint, size: int) -> bytes:
    """A well-formed body of exactly `size` bytes (a long string where the text goes)."""
    shell = endpoint.raw('""')
    return endpoint.raw('"' + "x" * (size - len(shell)) + '"')


async def chunks(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """Sent with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@endpoints
async def test_a_body_one_byte_over_the_limit_is_413_with_or_without_content_length(
    http, world, endpoint
):
    body = padded(endpoint, LIMIT + 1)
    assert len(body) == LIMIT + 1
    declared = await send(http, world, endpoint, body)
    assert problem(declared, 413)["code"] == "payload_too_large"
    streamed = await send(http, world, endpoint, chunks(body))
    assert problem(streamed, 413)["code"] == "payload_too_large"
    # Exactly at the limit it is read and judged on its fields (the text is far too long).
    at_limit = await send(http, world, endpoint, padded(endpoint, LIMIT))
    assert at_limit.status_code != 413, at_limit.text[:300]
    assert at_limit.status_code < 500, at_limit.text[:300]


@endpoints
async def test_a_body_of_many_megabytes_is_refused_with_413_and_the_gateway_stays_up(
    http, world, endpoint
):
    body = padded(endpoint, 8 * 1024 * 1024)
    declared = await send(http, world, endpoint, body)
    assert problem(declared, 413)["code"] == "payload_too_large"
    streamed = await send(http, world, endpoint, chunks(body, 256 * 1024))
    assert problem(streamed, 413)["code"] == "payload_too_large"
    # A Content-Length that promises a terabyte is refused before a byte of it is read.
    status, head, text = await raw_request(
        http, endpoint.method, endpoint.url(world),
        {**endpoint.headers(world), "content-type": "application/json",
         "content-length": str(10**12)},
    )  # fmt: skip
    assert status == 413, (status, text)
    assert "content-type: application/problem+json" in head.lower()
    assert json.loads(text)["code"] == "payload_too_large"
    assert (await http.get("/healthz")).status_code == 200


async def raw_request(
    http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, str, str]:
    """One request over a bare socket (for what an HTTP client library will not send)."""
    url = http.base_url
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"host: {url.host}", "connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, text = raw.decode("latin-1").partition("\r\n\r\n")
    return int(head.split()[1]), head, text


async def test_broken_framing_is_refused_by_the_server_and_the_gateway_keeps_serving(http):
    """Below the app: uvicorn answers these with a plain 400 and closes the connection."""
    login = b'{"email": "nobody@example.org", "password": "x"}'
    for headers in (
        {"content-length": "abc"},
        {"content-length": "-1"},
        {"content-length": str(len(login)), "transfer-encoding": "chunked"},  # smuggling shape
        {"content-length": f"{len(login)}, {len(login) + 1}"},
        {"x-evil": "a\x00b"},
    ):
        status, _, text = await raw_request(
            http, "POST", "/v1/auth/token", {"content-type": "application/json", **headers}, login
        )
        assert status == 400, (headers, status, text)
    assert (await http.get("/healthz")).status_code == 200


# -- deep JSON --------------------------------------------------------------------------------

DEEP = 30_000  # about 60 KB: within the body limit, far beyond any parser's recursion limit
NESTINGS = {
    "arrays": "[" * DEEP + "]" * DEEP,
    "objects": '{"a":' * (DEEP // 6) + "1" + "}" * (DEEP // 6),
    "unclosed": "[" * (LIMIT - 200),
    "mixed": '[{"a":' * (DEEP // 7) + "null" + "}]" * (DEEP // 7),
    "just_too_deep": "[" * 40 + "]" * 40,  # deeper than any body of ours has a reason to be
}


@endpoints
@pytest.mark.parametrize("nesting", sorted(NESTINGS))
async def test_deeply_nested_json_within_the_limit_is_422_not_a_crash(
    http, world, endpoint, nesting
):
    as_field = await send(http, world, endpoint, endpoint.raw(NESTINGS[nesting]))
    assert problem(as_field, 422)["code"] == "invalid_json"
    whole = await send(http, world, endpoint, NESTINGS[nesting].encode())
    assert problem(whole, 422)["code"] == "invalid_json"


async def test_ordinary_nesting_is_still_read(http, world):
    window = {"start": "22:00", "end": "07:00", "days": ["mo", "tu"], "timezone": "UTC"}
    made = await world.ada.post(
        f"/v1/relationships/{world.a}/boundaries", {"kind": "tech", "rule": "r", "window": window}
    )
    assert made.status_code == 201, made.text
    # Twenty levels are read, and judged on the field (a note is text, not a list).
    nested = await send(
        http, world, BY_NAME["checkin"], BY_NAME["checkin"].raw("[" * 20 + "]" * 20)
    )
    assert (problem(nested, 422)["code"], problem(nested, 422)["field"]) == (
        "invalid_input",
        "note",
    )


# -- text and numbers no one should store -----------------------------------------------------

MALFORMED: dict[str, bytes | str] = {
    "invalid_utf8": b'"caf\xe9 \xff\xfe"',
    "overlong_utf8": b'"\xc0\xaf"',
    "encoded_surrogate": b'"\xed\xa0\x80"',
    "lone_surrogate_escape": '"\\ud800"',
    "lone_low_surrogate_escape": '"abc\\udfff"',
    "nul_escape": '"a\\u0000b"',
    "huge_exponent": "1e400",
    "negative_huge_exponent": "-1e400",
    "huge_integer": "1" + "0" * 5000,
    "nan": "NaN",
    "infinity": "-Infinity",
}


def hostile_body(endpoint: Endpoint, fragment: bytes | str) -> bytes:
    raw = endpoint.raw("@@@")
    as_bytes = fragment if isinstance(fragment, bytes) else fragment.encode()
    return raw.replace(b"@@@", as_bytes)


@endpoints
@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_text_that_is_not_unicode_and_numbers_that_are_not_finite_are_422(
    http, world, endpoint, kind
):
    response = await send(http, world, endpoint, hostile_body(endpoint, MALFORMED[kind]))
    assert problem(response, 422)["code"] == "invalid_json"


@endpoints
async def test_a_lone_surrogate_or_nul_in_a_key_and_duplicate_keys_are_422(http, world, endpoint):
    for key in ('"\\ud800"', '"a\\u0000"'):
        body = endpoint.raw('"x"')[:-1] + b"," + key.encode() + b': "y"}'
        assert problem(await send(http, world, endpoint, body), 422)["code"] == "invalid_json"
    # Two values for one field: which one counts would depend on the parser; refuse both.
    valid = endpoint.raw('"x"')
    duplicate = valid[:-1] + b", " + valid[1:]
    assert problem(await send(http, world, endpoint, duplicate), 422)["code"] == "invalid_json"


async def test_a_utf8_byte_order_mark_and_utf16_are_422(http, world):
    endpoint = BY_NAME["checkin"]
    text = json.dumps({"mood": 3, "connection": 5})
    for content in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        assert problem(await send(http, world, endpoint, content), 422)["code"] == "invalid_json"


async def test_unicode_text_that_is_fine_is_kept_exactly(http, world):
    note = "Danke für heute 💛 — 사랑해\ttab\nline"
    made = await world.ada.post(f"/v1/relationships/{world.a}/checkins",
                                {"mood": 3, "connection": 5, "note": note})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["note"] == note


# -- bodies that are not JSON -----------------------------------------------------------------

NOT_JSON: dict[str, str | None] = {
    "text": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "missing": None,
    "latin1": "application/json; charset=latin-1",
    "utf16": "application/json; charset=utf-16",
    "almost_json": "application/jsonx",
    "garbage": ";;;",
}


@endpoints
@pytest.mark.parametrize("kind", sorted(NOT_JSON))
async def test_a_body_that_is_not_utf8_json_by_its_content_type_is_415(http, world, endpoint, kind):
    valid = endpoint.raw('"fine value"')
    response = await send(http, world, endpoint, valid, content_type=NOT_JSON[kind])
    assert problem(response, 415)["code"] == "unsupported_media_type"


@endpoints
async def test_a_multipart_form_is_415(http, world, endpoint):
    response = await http.request(
        endpoint.method, endpoint.url(world), headers=endpoint.headers(world),
        files={"file": ("body.json", endpoint.raw('"x"'), "application/json")},
    )  # fmt: skip
    assert problem(response, 415)["code"] == "unsupported_media_type"


async def test_json_with_a_utf8_charset_or_a_json_suffix_is_read(http, world):
    endpoint = BY_NAME["profile"]
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json",
                         'APPLICATION/JSON;Charset="UTF-8"'):  # fmt: skip
        response = await send(http, world, endpoint, endpoint.raw('"Ada"'), content_type)
        assert response.status_code == 200, (content_type, response.text)


async def test_an_empty_body_needs_no_content_type(http, world):
    invite = await world.ada.post(f"/v1/relationships/{world.a}/invites")
    assert invite.status_code == 201, invite.text
    missing = await http.post(f"/v1/relationships/{world.a}/checkins", headers=world.ada.headers)
    assert problem(missing, 422)["code"] == "invalid_input"


# -- token tampering --------------------------------------------------------------------------


def tampered(token: str) -> dict[str, str | bytes]:
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    return {
        "one_character_changed": f"Bearer {flipped}",
        "truncated": f"Bearer {token[:-1]}",
        "extra_bytes": f"Bearer {token}x",
        "appended_token": f"Bearer {token} {token}",
        "basic_scheme": f"Basic {token}",
        "token_without_scheme": token,
        "bearer_only": "Bearer",
        "non_ascii": b"Bearer " + token.encode() + b"\xff\xfe",
        "very_long": "Bearer " + token + "a" * 16_000,
    }


async def test_a_tampered_token_is_401_and_tells_nothing_about_the_account(http, world):
    person = await sign_up(http, "Tamper")
    marks = [person.id, person.email, "Tamper", person.token]
    targets = [("GET", "/v1/me", None), ("PATCH", "/v1/me", {"display_name": "x"}),
               ("POST", f"/v1/relationships/{world.a}/checkins", {"mood": 3, "connection": 3}),
               ("GET", "/v1/relationships", None)]  # fmt: skip
    for name, value in tampered(person.token).items():
        for method, path, body in targets:
            response = await http.request(method, path, json=body,
                                          headers={"Authorization": value})  # fmt: skip
            problem(response, 401)
            assert not leaks(response.text, marks), (name, path, response.text)
    # What a client library will not send: an empty bearer, a NUL inside the token.
    for value in ("Bearer ", "Bearer \t ", f"Bearer {person.token[:10]}\x00{person.token[10:]}"):
        status, head, text = await raw_request(http, "GET", "/v1/me", {"Authorization": value})
        assert status in (400, 401), (value, status, text)
        if status == 401:
            assert "content-type: application/problem+json" in head.lower()
        assert not leaks(text, marks), text
    assert (await person.ok("GET", "/v1/me"))["id"] == person.id  # the real one still works


async def test_the_token_of_a_logged_out_session_is_401(http):
    person = await sign_up(http, "Leaver")
    login = {"email": person.email, "password": "a long enough secret"}
    other = await http.post("/v1/auth/token", json=login)
    assert other.status_code == 200
    assert (await person.post("/v1/auth/logout")).status_code == 204
    for path in ("/v1/me", "/v1/relationships"):
        response = await person.get(path)
        assert problem(response, 401)["code"] == "token_invalid"
        assert not leaks(response.text, [person.id, person.email, "Leaver"])
    # Only that session ended.
    still = await http.get(
        "/v1/me", headers={"Authorization": f"Bearer {other.json()['access_token']}"}
    )
    assert still.status_code == 200


async def test_a_header_far_too_long_is_refused_without_a_server_error(http):
    response = await http.get("/v1/me", headers={"Authorization": "Bearer " + "a" * 200_000})
    assert response.status_code in (401, 431), response.status_code
    if response.status_code == 401:  # the server takes it; the gateway judges the token
        assert problem(response, 401)["code"] == "token_invalid"


# -- id guessing across relationships ---------------------------------------------------------

# Paths that take a relationship and (maybe) an entry of it: {rid} and {id}.
ID_PATHS = [
    ("GET", "/v1/relationships/{rid}", None),
    ("GET", "/v1/relationships/{rid}/timeline", None),
    ("POST", "/v1/relationships/{rid}/checkins", {"mood": 3, "connection": 3}),
    ("POST", "/v1/relationships/{rid}/invites", None),
    ("POST", "/v1/relationships/{rid}/bids/{bid}/answer", {"response": "toward"}),
    ("POST", "/v1/relationships/{rid}/boundaries/{boundary}/accept", None),
    ("DELETE", "/v1/relationships/{rid}/boundaries/{boundary}", None),
    ("POST", "/v1/relationships/{rid}/boundaries/{boundary}/breaches", {}),
    ("POST", "/v1/relationships/{rid}/conflicts/{conflict}/repair", {"felt": "connected"}),
    ("POST", "/v1/relationships/{rid}/rituals/{ritual}/outcomes",
     {"occurrence": "2026-11-20T10:00:00Z", "outcome": "completed"}),
    ("GET", "/v1/relationships/{rid}/webhooks/{webhook}/deliveries", None),
    ("DELETE", "/v1/relationships/{rid}/webhooks/{webhook}", None),
    ("POST", "/v1/relationships/{rid}/webhooks/{webhook}/deliveries/{checkin}/retry", None),
]  # fmt: skip


def fill(template: str, rid: str, ids: dict[str, str]) -> str:
    path = template.replace("{rid}", rid)
    for kind, value in ids.items():
        path = path.replace("{" + kind + "}", value)
    return path


def random_ids(found: dict[str, str]) -> dict[str, str]:
    return {kind: secrets.token_hex(16) for kind in found}


def shape(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    """The 404 without `instance`: the path as sent, ids and all, is echoed there."""
    body = dict(problem(response, 404))
    assert body.pop("instance") == response.request.url.path
    return response.status_code, body


def told(response: httpx.Response) -> str:
    """What a response says beyond echoing the path it was sent to."""
    return json.dumps(shape(response))


@pytest.mark.parametrize(("method", "template", "body"), ID_PATHS,
                         ids=[f"{m} {p}" for m, p, _ in ID_PATHS])  # fmt: skip
@pytest.mark.parametrize("direction", ["a_guesses_b", "b_guesses_a"])
async def test_another_relationships_ids_get_the_same_404_as_random_ones(
    http, world, method, template, body, direction
):
    if direction == "a_guesses_b":
        me, mine, theirs = world.ada, (world.a, world.a_entries), (world.b, world.b_entries)
        their_secrets = world.b_secrets
    else:
        me, mine, theirs = world.cy, (world.b, world.b_entries), (world.a, world.a_entries)
        their_secrets = world.a_secrets

    async def call(path: str) -> httpx.Response:
        return await http.request(method, path, json=body, headers=me.headers)

    their_rid, their_ids = theirs
    random_rid, random_entry_ids = secrets.token_hex(16), random_ids(their_ids)
    # Their relationship with their entries, against a relationship that does not exist.
    known = await call(fill(template, their_rid, their_ids))
    unknown = await call(fill(template, random_rid, random_entry_ids))
    assert shape(known) == shape(unknown)
    assert not leaks(told(known), their_secrets), known.text
    if "{" in template.removeprefix("/v1/relationships/{rid}"):
        # My own relationship with their entry ids, against ids that do not exist.
        known = await call(fill(template, mine[0], their_ids))
        unknown = await call(fill(template, mine[0], random_entry_ids))
        assert shape(known) == shape(unknown)
        assert not leaks(told(known), their_secrets), known.text


WRONG_FORMAT = ["..", "%2E%2E", "..%2F..%2Fv1%2Fme", "%00", "a" * 65, "' OR '1'='1", "%C3%A9",
                "{rid}", "$ne", "%2Fetc%2Fpasswd", "a%20b", "-"]  # fmt: skip


@pytest.mark.parametrize("bad", WRONG_FORMAT)
async def test_ids_of_the_wrong_format_are_a_plain_4xx_that_says_nothing(http, world, bad):
    for template, ok_body in [
        ("/v1/relationships/{bad}", None),
        ("/v1/relationships/{bad}/checkins", {"mood": 3, "connection": 3}),
        ("/v1/relationships/{a}/bids/{bad}/answer", {"response": "toward"}),
        ("/v1/relationships/{a}/webhooks/{bad}/deliveries", None),
        ("/v1/invites/{bad}/accept", None),
    ]:
        path = template.replace("{bad}", bad).replace("{a}", world.a)
        method = "GET" if ok_body is None and "accept" not in path else "POST"
        response = await http.request(method, path, json=ok_body, headers=world.ada.headers)
        body = problem(response, 404, 405, 422)
        assert not leaks(response.text, world.b_secrets), (path, response.text)
        assert body["code"] in ("not_found", "relationship_not_found", "bid_not_found",
                                "webhook_not_found", "invite_not_found", "invalid_input",
                                "method_not_allowed"), body  # fmt: skip


# -- hostile Idempotency-Keys -----------------------------------------------------------------


async def test_hostile_idempotency_keys_are_refused_or_kept_apart(http, world):
    base = f"/v1/relationships/{world.a}"
    checkin = {"mood": 3, "connection": 4}
    for bad in ("é".encode(), "ключ".encode(), b"k" * 256, b"\xff"):
        headers: dict[str, str | bytes] = {**world.ada.headers, "Idempotency-Key": bad}
        response = await http.post(f"{base}/checkins", json=checkin, headers=headers)
        assert problem(response, 422)["code"] == "invalid_idempotency_key"
    key = "k" * 223 + uuid.uuid4().hex  # 255 characters: the longest allowed
    first = await world.ada.post(f"{base}/checkins", checkin, key=key)
    assert first.status_code == 201, first.text
    # The same key on another route names another request: its own answer, never the first.
    touch = {"kind": "hug", "sexual": False}
    other_path = await world.ada.post(f"{base}/touches", touch, key=key)
    assert other_path.status_code == 201, other_path.text
    assert other_path.headers.get("idempotent-replayed") is None
    assert first.json()["id"] not in other_path.text
    other_relationship = await world.ada.post(f"/v1/relationships/{world.b}/checkins", checkin,
                                              key=key)  # fmt: skip
    assert other_relationship.status_code in (404, 409), other_relationship.text
    assert first.json()["id"] not in other_relationship.text
    # With another body on the same route: a conflict, never the answer.
    other_body = await world.ada.post(f"{base}/checkins", {**checkin, "mood": 4}, key=key)
    assert problem(other_body, 409)["code"] == "idempotency_key_reused"
    # Another member with the same key and body gets their own answer, not Ada's.
    bens = await world.ben.post(f"{base}/checkins", checkin, key=key)
    assert bens.status_code == 201, bens.text
    assert bens.json()["id"] != first.json()["id"]
    assert bens.json()["author_id"] == world.ben.id
    assert bens.headers.get("idempotent-replayed") is None
    # Without a token, the key is scoped to no one: no account's answer comes back.
    anonymous = await http.post(f"{base}/checkins", json=checkin, headers={"Idempotency-Key": key})
    problem(anonymous, 401)
    assert first.json()["id"] not in anonymous.text
