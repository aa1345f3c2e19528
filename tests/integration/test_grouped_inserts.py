"""Inserts that arrive together go together, and each caller hears only its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson.errors import InvalidDocument
from pymongo.errors import DuplicateKeyError, ServerSelectionTimeoutError

from deploy.processes import free_port
from shared.grouped_inserts import GroupedInserts
from shared.mongo import create_client
from tests.integration.test_mongo_client import Started


@pytest.fixture
async def things(servers, namespace) -> AsyncIterator[Any]:
    """A collection of a database of this test's own, dropped afterwards."""
    client = create_client(servers.mongo_url, "grouped-test")
    try:
        yield client[f"{namespace}-grouped"]["things"]
    finally:
        await client.drop_database(f"{namespace}-grouped")
        await client.close()


async def outcomes(inserts: GroupedInserts, documents: list[dict[str, Any]]) -> list[Any]:
    return await asyncio.gather(
        *(inserts.insert(document) for document in documents), return_exceptions=True
    )


async def test_inserts_made_together_go_in_one_statement_and_all_land(servers, namespace):
    seen = Started()
    client = create_client(servers.mongo_url, "grouped-test", listeners=[seen])
    things = client[f"{namespace}-grouped"]["things"]
    try:
        inserts = GroupedInserts(lambda: things)
        assert await outcomes(inserts, [{"_id": n} for n in range(20)]) == [None] * 20
        statements = [body for name, body in seen.commands if name == "insert"]
        assert len(statements) < 20
        assert sum(len(body["documents"]) for body in statements) == 20
        assert await things.count_documents({}) == 20
        await inserts.insert({"_id": "alone"})  # nothing else on its way: it goes at once
        assert await things.count_documents({"_id": "alone"}) == 1
    finally:
        await client.drop_database(f"{namespace}-grouped")
        await client.close()


async def test_a_duplicate_fails_only_its_own_insert(things):
    await things.insert_one({"_id": "taken"})
    inserts = GroupedInserts(lambda: things)
    results = await outcomes(inserts, [{"_id": "a"}, {"_id": "taken"}, {"_id": "b"}])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], DuplicateKeyError)
    assert sorted(d["_id"] for d in await things.find().to_list()) == ["a", "b", "taken"]


async def test_a_document_that_cannot_be_sent_fails_alone(things):
    inserts = GroupedInserts(lambda: things)
    # A set is not BSON: the driver refuses the whole insert_many before sending it.
    results = await outcomes(inserts, [{"_id": "a"}, {"_id": "bad", "v": {1}}, {"_id": "b"}])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], InvalidDocument)
    assert sorted(d["_id"] for d in await things.find().to_list()) == ["a", "b"]


@pytest.mark.timeout(60)
async def test_no_server_fails_every_waiting_insert_once():
    client = create_client(f"mongodb://127.0.0.1:{free_port()}", "grouped-test", timeout=0.5)
    asked: list[int] = []

    def things() -> Any:
        asked.append(1)
        return client["nowhere"]["things"]

    try:
        results = await outcomes(GroupedInserts(things), [{"_id": n} for n in range(3)])
        assert all(isinstance(result, ServerSelectionTimeoutError) for result in results)
        assert len({id(result) for result in results}) == 3  # each its own, not one shared
        assert len(asked) == 1  # not tried again one by one: it is nobody's document
    finally:
        await client.close()
