"""Two gateway replicas remember tokens and memberships, and forget them together at once.

Replica B's memory lasts ten minutes here: whatever it refuses right after a change on
replica A, it refuses because A told it (core NATS), not because its memory ran out.
"""

from __future__ import annotations

import dataclasses

import httpx
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.support.api import Person, couple, sign_up
from tests.support.gateway import http


def on(client: httpx.AsyncClient, person: Person) -> Person:
    """The same person, talking to another replica."""
    return dataclasses.replace(person, http=client)


async def delivered(replica: FastAPI) -> None:
    """The bus has handed this replica what it had for it (as it has by the time any real
    client's next request arrives there: one round trip to the NATS server)."""
    await replica.state.runtime.broker.connection.flush()


async def test_what_changes_on_one_replica_is_refused_on_the_other_at_once(make_settings, mongo):
    settings = make_settings(GatewaySettings, access_cache_seconds=600)
    one, two = create_app(settings), create_app(settings)
    async with http(one) as a, http(two) as b:
        rid, (ann, ben) = await couple(a, "Ann", "Ben")
        ann_b, ben_b = on(b, ann), on(b, ben)
        path = f"/v1/relationships/{rid}"
        for person in (ann_b, ben_b):
            assert (await person.get(path)).status_code == 200
        assert len(two.state.access.cache) == 3  # two tokens and the relationship remembered

        # Ben leaves through A: B no longer lets him in, and shows Ann the new membership.
        await ben.ok("DELETE", f"{path}/members/me", status=204)
        await delivered(two)
        assert (await ben_b.get(path)).status_code == 404
        assert [m["id"] for m in (await ann_b.get(path)).json()["members"]] == [ann.id]

        # Cy joins through A: B lets her in at once (its memory of the members was old).
        cy = await sign_up(a, "Cy")
        invite = await ann.ok("POST", f"{path}/invites")
        await cy.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
        await delivered(two)
        cy_b = on(b, cy)
        assert (await cy_b.get(path)).status_code == 200

        # Ben logs out through A: his token stops working on B.
        assert (await ben_b.get("/v1/me")).status_code == 200
        await ben.ok("POST", "/v1/auth/logout", status=204)
        await delivered(two)
        refused = await ben_b.get("/v1/me")
        assert (refused.status_code, refused.json()["code"]) == (401, "token_invalid")

        # Ann erases herself through A: every token of hers stops working on B, including
        # one A never saw.
        password = {"email": ann.email, "password": "a long enough secret"}
        second = await b.post("/v1/auth/token", json=password)
        other_token = dataclasses.replace(ann_b, token=second.json()["access_token"])
        assert (await other_token.get(path)).status_code == 200
        assert (await ann_b.get(path)).status_code == 200
        await ann.ok("DELETE", "/v1/me", status=202)
        await delivered(two)
        for token in (ann_b, other_token):
            assert (await token.get(path)).status_code == 401
        assert [m["id"] for m in (await cy_b.get(path)).json()["members"]] == [cy.id]
