"""The FastStream broker factory, stream definitions and event publishing."""

from __future__ import annotations

import asyncio
import logging

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import NatsBroker
from faststream.nats.security import NatsUserPassword
from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared import telemetry
from shared.envelope import Envelope
from shared.logging import get_logger
from shared.messages.base import subject_of
from shared.settings import BaseServiceSettings
from shared.subjects import (
    dead_letter_stream_name,
    dead_letter_subject,
    inbox_prefix,
    owner_events,
    stream_name,
)

log = get_logger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
DLQ_REASON_HEADER = "Attune-Dlq-Reason"
DLQ_SUBJECT_HEADER = "Attune-Dlq-Subject"
DLQ_CONSUMER_HEADER = "Attune-Dlq-Consumer"
# The dead message's own Nats-Msg-Id, so a redrive can publish it back under the same id.
DLQ_MSG_ID_HEADER = "Attune-Dlq-Msg-Id"


def create_broker(settings: BaseServiceSettings, client_name: str | None = None) -> NatsBroker:
    """A broker that never drops a failed message silently and reconnects forever."""
    return NatsBroker(
        [url.strip() for url in settings.nats_url.split(",")],  # a cluster: several URLs
        name=client_name or f"attune-{settings.service_name}",
        # Replies (and JetStream deliveries) to this service land under its own prefix,
        # which no other service's NATS user may subscribe to.
        inbox_prefix=inbox_prefix(settings.namespace, settings.service_name),
        security=_security(settings),
        # FastStream's default REJECT_ON_ERROR would discard a message whose handler raised.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        graceful_timeout=settings.shutdown_grace_seconds,
        # Per-message processing logs only at DEBUG; our handlers log what matters.
        log_level=logging.DEBUG,
        # W3C trace context in the headers of every message (only when tracing is on).
        middlewares=telemetry.broker_middlewares(settings.service_name),
    )


def _security(settings: BaseServiceSettings) -> NatsUserPassword | None:
    if settings.nats_user is None or settings.nats_password is None:
        return None
    return NatsUserPassword(
        username=settings.nats_user, password=settings.nats_password.get_secret_value()
    )


def event_stream_config(settings: BaseServiceSettings, owner: str) -> StreamConfig:
    """One stream per owning service: file storage, de-duplication by event id, kept a year."""
    return StreamConfig(
        name=stream_name(settings.namespace, owner),
        description=f"Attune events owned by {owner}",
        subjects=[owner_events(settings.namespace, owner)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=365 * 24 * 3600,
        duplicate_window=settings.dedup_window_seconds,
        num_replicas=settings.stream_replicas,
    )


def dead_letter_stream_config(settings: BaseServiceSettings, service: str) -> StreamConfig:
    return StreamConfig(
        name=dead_letter_stream_name(settings.namespace, service),
        description=f"Messages {service} could never process, with the reason",
        subjects=[dead_letter_subject(settings.namespace, service)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=90 * 24 * 3600,
        duplicate_window=settings.dedup_window_seconds,
        num_replicas=settings.stream_replicas,
    )


async def declare_stream(connection: Client, config: StreamConfig) -> None:
    """Create the stream, or bring an existing one to this configuration."""
    js = connection.jetstream()
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream_created", stream=config.name)
    else:
        await js.update_stream(config)


async def wait_for_stream(connection: Client, name: str, poll_seconds: float = 0.5) -> None:
    """Another service declares its own stream; wait until it exists before binding to it."""
    js = connection.jetstream()
    logged = False
    while True:
        try:
            await js.stream_info(name)
            return
        except NotFoundError:
            if not logged:
                log.info("waiting_for_stream", stream=name)
                logged = True
            await asyncio.sleep(poll_seconds)


async def publish_raw(
    broker: NatsBroker, namespace: str, owner: str, event_id: str, subject: str, body: bytes
) -> bool:
    """Publish an encoded event with its id as Nats-Msg-Id; False when JetStream had it already."""
    ack = await broker.publish(
        body,
        subject,
        headers={MSG_ID_HEADER: event_id, "content-type": "application/cloudevents+json"},
        stream=stream_name(namespace, owner),
        timeout=5,
    )
    return not ack.duplicate


async def publish_event(broker: NatsBroker, namespace: str, envelope: Envelope) -> bool:
    """Publish an event straight away (the outbox relay uses `publish_raw`)."""
    subject = subject_of(namespace, envelope)
    return await publish_raw(
        broker, namespace, envelope.owner, envelope.id, subject, envelope.to_json()
    )


async def raw_body(message: StreamMessage[object]) -> bytes:
    """A subscriber decoder that hands over the bytes as they came.

    Our handlers parse (within their own size and depth limits) and judge every message
    themselves; FastStream's default decoder would try JSON first and raise outside the
    handler, before a hostile body could be dead-lettered or answered with an error.
    """
    return message.body
