"""Acting as members against a real checkin service over NATS request/reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from pydantic import BaseModel, ConfigDict

from shared.contract import operation
from shared.messages.checkin_rpc import Entry, EntryList
from shared.rpc import CallContext, RpcClient
from shared.subjects import relationship_events, stream_name
from tests.support.streams import read_subject


class Unchecked(BaseModel):
    model_config = ConfigDict(extra="allow")


@dataclass
class Member:
    rpc: RpcClient
    member_id: str
    relationship_id: str
    members: list[str]
    version: int = 1

    def context(self) -> CallContext:
        return CallContext(
            actor_id=self.member_id,
            relationship_id=self.relationship_id,
            members=self.members,
            membership_version=self.version,
            correlation_id=f"test-{self.member_id}",
        )

    async def cmd(self, name: str, command_id: str | None = None, **payload: Any) -> Entry:
        command = operation("cmd", "checkin", name).request(**payload)
        return await self.rpc.call(command, context=self.context(), command_id=command_id)  # type: ignore[arg-type]

    async def send_raw(self, name: str, **payload: Any) -> Entry:
        """Send a payload as it is, unchecked, so the service's own validation is what answers."""
        return await self.rpc.call_named(
            "cmd", "checkin", name, Unchecked(**payload), Entry, context=self.context()
        )

    async def qry(self, name: str, **payload: Any) -> EntryList:
        query = operation("qry", "checkin", name).request(**payload)
        return await self.rpc.call(query, context=self.context())  # type: ignore[arg-type]


async def checkin_events(client: Client, namespace: str, relationship_id: str) -> list[dict]:
    return await read_subject(
        client,
        stream_name(namespace, "checkin"),
        relationship_events(namespace, "checkin", relationship_id),
    )
