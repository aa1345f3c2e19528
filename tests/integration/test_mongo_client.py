"""The services' MongoDB client: writes outside a transaction are not retryable writes
(shared/mongo.py says why), and transactions still are transactions."""

from __future__ import annotations

from typing import Any

from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from shared.mongo import create_client


class Started(CommandListener):
    """Every command the client sends, by name, with its body."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def carrying_a_transaction_number(self) -> list[str]:
        return [name for name, body in self.commands if "txnNumber" in body]


async def test_writes_outside_a_transaction_are_not_retryable_writes(servers, namespace):
    seen = Started()
    client = create_client(servers.mongo_url, "client-test", listeners=[seen])
    things = client[f"{namespace}-client"]["things"]
    try:
        await things.insert_one({"_id": "a", "n": 0})
        await things.update_one({"_id": "a"}, {"$inc": {"n": 1}})
        await things.find_one_and_update({"_id": "a"}, {"$set": {"claimed": True}})
        await things.delete_many({"_id": "nothing"})
        assert seen.carrying_a_transaction_number() == []

        async def in_one(session: Any) -> None:
            await things.update_one({"_id": "a"}, {"$inc": {"n": 1}}, session=session)

        async with client.start_session() as session:
            await session.with_transaction(in_one)
        assert seen.carrying_a_transaction_number() == ["update", "commitTransaction"]
        assert (await things.find_one({"_id": "a"}))["n"] == 2
    finally:
        await client.drop_database(f"{namespace}-client")
        await client.close()
