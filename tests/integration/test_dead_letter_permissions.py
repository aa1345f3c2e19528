"""Redrive under least privilege: the owner can read a dead letter of its events and publish it
back; the gateway can read dead letters headers-only and remove them, but not touch an event
stream; nobody else can remove them."""

from __future__ import annotations

import nats
import pytest
from nats.js.api import StreamConfig

from deploy.nats_auth import write_embedded_config
from deploy.processes import free_port
from deploy.servers import start_nats
from services.gateway.ops import dead_letters
from shared.nats import DLQ_MSG_ID_HEADER, DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER
from shared.redrive import redrive
from shared.subjects import (
    dead_letter_stream_name,
    dead_letter_subject,
    event_subject,
    inbox_prefix,
    owner_events,
    stream_name,
)

NS = "attune"


@pytest.fixture
def secured_nats(tmp_path):
    port = free_port()
    config, passwords = write_embedded_config(tmp_path, NS, port, tmp_path / "store")
    server = start_nats(port, tmp_path / "store", tmp_path / "nats.log", config=config)
    yield f"nats://127.0.0.1:{port}", passwords
    server.stop()


async def test_owner_redrives_and_gateway_removes_under_nats_permissions(secured_nats):
    url, passwords = secured_nats
    # Each service receives replies only under its own inbox prefix (as the services do).
    clients = {s: await nats.connect(url, user=s, password=passwords[s],
                                     inbox_prefix=inbox_prefix(NS, s))
               for s in ("checkin", "insights", "gateway")}  # fmt: skip
    try:
        subject = event_subject(NS, "checkin", "r1", "bid.made")
        await (
            clients["checkin"]
            .jetstream()
            .add_stream(
                StreamConfig(
                    name=stream_name(NS, "checkin"), subjects=[owner_events(NS, "checkin")]
                )
            )
        )
        await clients["insights"].jetstream().add_stream(
            StreamConfig(name=dead_letter_stream_name(NS, "insights"),
                         subjects=[dead_letter_subject(NS, "insights")])
        )  # fmt: skip
        await clients["checkin"].jetstream().publish(subject, b"{}", headers={"Nats-Msg-Id": "e1"})
        await clients["insights"].jetstream().publish(
            dead_letter_subject(NS, "insights"), b"{}",
            headers={DLQ_SUBJECT_HEADER: subject, DLQ_REASON_HEADER: "broken",
                     DLQ_MSG_ID_HEADER: "e1"},
        )  # fmt: skip

        [letter] = await dead_letters.scan(clients["gateway"], NS, "insights")
        assert letter.reason == "broken" and letter.owner == "checkin"

        with pytest.raises(Exception):  # noqa: B017 - insights may not publish checkin events
            await redrive(clients["insights"], NS, "checkin", "insights", letter.sequence)
        outcome = await redrive(clients["checkin"], NS, "checkin", "insights", letter.sequence)
        assert outcome.published

        with pytest.raises(Exception):  # noqa: B017 - the gateway may not edit event streams
            await clients["gateway"].jetstream().delete_msg(stream_name(NS, "checkin"), 1)
        # A service deletes from its own dead letters only to erase a member (docs/privacy.md);
        # another service's it may not touch.
        await clients["checkin"].jetstream().add_stream(
            StreamConfig(name=dead_letter_stream_name(NS, "checkin"),
                         subjects=[dead_letter_subject(NS, "checkin")])
        )  # fmt: skip
        await clients["checkin"].jetstream().publish(dead_letter_subject(NS, "checkin"), b"{}")
        with pytest.raises(Exception):  # noqa: B017 - nor may a service remove another's
            await (
                clients["insights"]
                .jetstream()
                .delete_msg(dead_letter_stream_name(NS, "checkin"), 1)
            )
        assert await dead_letters.purge(clients["gateway"], NS, [letter]) == 1
        assert await dead_letters.scan(clients["gateway"], NS, "insights") == []
        info = await clients["checkin"].jetstream().stream_info(stream_name(NS, "checkin"))
        assert info.state.messages == 2  # the original and the redriven one
    finally:
        for client in clients.values():
            await client.close()
