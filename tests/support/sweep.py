"""Everything a deployment stores, read with an admin connection made only for a test:
every document of every service database and every message of every stream."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bson import json_util
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient


@dataclass(frozen=True)
class Stored:
    where: str  # "<database>.<collection>" or "stream:<name>"
    text: str  # the whole item as text (bodies stored as strings or bytes included)

    def holds(self, value: str) -> bool:
        return value in self.text


async def everything(mongo_url: str, namespace: str, nats_client: Client) -> list[Stored]:
    found: list[Stored] = []
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    try:
        for name in await client.list_database_names():
            if not name.startswith(namespace):
                continue
            for collection in await client[name].list_collection_names():
                async for document in client[name][collection].find({}):
                    found.append(Stored(f"{name}.{collection}", _text(document)))
    finally:
        await client.close()
    js = nats_client.jetstream()
    for info in await js.streams_info():
        stream = info.config.name or ""
        if not stream.lower().startswith(namespace) or not info.state.messages:
            continue
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                message = await js.get_msg(stream, sequence)
            except NotFoundError:  # deleted by sequence: nothing left to read
                continue
            body = message.data.decode(errors="replace") if message.data else ""
            found.append(Stored(f"stream:{stream}", body + json.dumps(message.headers or {})))
    return found


def _text(document: Any) -> str:
    """A document as text, with bytes (outbox bodies) decoded so their content shows."""
    if isinstance(document, bytes):
        return document.decode(errors="replace")
    if isinstance(document, dict):
        return "{" + ",".join(f"{k}:{_text(v)}" for k, v in document.items()) + "}"
    if isinstance(document, list):
        return "[" + ",".join(_text(v) for v in document) + "]"
    return json_util.dumps(document)
