"""Redriving a dead letter: its event's owner publishes it back onto the original subject.

Only the owner may publish on its event subjects (NATS permissions), so the gateway's ops
routes ask the owner to do it. The message goes back with its original `Nats-Msg-Id`; when
JetStream still remembers that id (inside the de-duplication window it would silently drop
the repeat) it goes under an id derived from the dead letter instead, so it is delivered
once and a repeated redrive of the same dead letter is dropped. Consumers apply an event
once by its event id either way, so a consumer that already applied it changes nothing.
"""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field

from shared.messages.asks import Asks
from shared.nats import DLQ_MSG_ID_HEADER, DLQ_SUBJECT_HEADER, MSG_ID_HEADER
from shared.problems import InvalidInput, NotFound
from shared.subjects import SERVICES, dead_letter_stream_name, owner_events, stream_name

REDRIVE_COMMAND = "redrive_dead_letter"


class Redriven(BaseModel):
    published: bool  # False: this dead letter was redriven already (JetStream dropped it)
    message_id: str  # the Nats-Msg-Id it went out under


class RedriveDeadLetter(Asks[Redriven]):
    """Publish one of `service`'s dead letters again on its original subject."""

    service: str = Field(pattern="^(" + "|".join(SERVICES) + ")$")
    sequence: int = Field(ge=1)


def redrive_id(original: str | None, service: str, sequence: int) -> str:
    """The id a redrive uses while the original id is still inside the de-duplication window."""
    return f"{original or 'unknown'}~redrive~{service}~{sequence}"


async def redrive(
    connection: Client, namespace: str, owner: str, service: str, sequence: int
) -> Redriven:
    js = connection.jetstream()
    try:
        letter = await js.get_msg(dead_letter_stream_name(namespace, service), sequence)
    except NotFoundError as exc:
        raise NotFound(f"no dead letter {sequence} in {service}'s queue") from exc
    headers = letter.headers or {}
    subject = headers.get(DLQ_SUBJECT_HEADER, "")
    if not subject.startswith(owner_events(namespace, owner)[:-1]):
        raise InvalidInput(f"dead letter {sequence} did not come from {owner}'s events")
    original = headers.get(DLQ_MSG_ID_HEADER)
    stream = stream_name(namespace, owner)
    body = letter.data or b""
    for message_id in (original, redrive_id(original, service, sequence)):
        if message_id is None:
            continue
        ack = await js.publish(subject, body, stream=stream, headers={MSG_ID_HEADER: message_id})
        if not ack.duplicate:
            return Redriven(published=True, message_id=message_id)
    return Redriven(published=False, message_id=redrive_id(original, service, sequence))
