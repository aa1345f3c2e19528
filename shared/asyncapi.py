"""The AsyncAPI 3 document of Attune's messaging, generated from the code.

Events come from the event registry (`shared/messages`, every type and version with its owner),
commands and queries from the operation catalog (`shared/contract.py`), subjects from
`shared/subjects.py`. Schemas are the pydantic models' own JSON Schemas, so the document cannot
drift from what the services accept.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.contract import OPERATIONS, Operation
from shared.envelope import Envelope
from shared.messages.base import EventData, known_events
from shared.rpc import Reply, Request
from shared.subjects import NO_RELATIONSHIP, command_subject, query_subject

SCHEMAS = "#/components/schemas/{model}"
RELATIONSHIP = "relationship_id"

DESCRIPTION = """\
Attune's services talk only through NATS. Events are immutable facts on JetStream, one stream
per owning service, on `<namespace>.<owner>.evt.<relationship_id>.<type>`, each in a CloudEvents
1.0 envelope whose `id` is also its `Nats-Msg-Id`. Commands and queries go from the gateway to
the owning service over request/reply on `<namespace>.cmd|qry.<service>.<name>`; the reply is a
typed result or a typed error. A message that can never be processed is dead-lettered on
`<namespace>.dlq.<service>` with its reason. The namespace is `attune` unless configured.
"""


def _pascal(dotted: str) -> str:
    return "".join(part.capitalize() for part in dotted.replace(".", "_").split("_"))


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS)
    return dict(top.get("$defs", {}))


def _event_message(model: type[EventData]) -> tuple[str, dict[str, Any]]:
    name = f"{_pascal(model.event_type)}V{model.event_version}"
    doc = (model.__doc__ or "").strip() or f"The {model.event_type} event."
    return name, {
        "name": name,
        "title": f"{model.event_type} v{model.event_version}",
        "summary": doc.splitlines()[0],
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {"Nats-Msg-Id": {"type": "string", "description": "The envelope's id."}},
        },
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS.format(model="Envelope")},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": model.event_type},
                        "dataversion": {"const": model.event_version},
                        "source": {"const": f"attune/{model.owner}"},
                        "data": {"$ref": SCHEMAS.format(model=model.__name__)},
                    },
                },
            ]
        },
        "x-owner": model.owner,
    }


def _rpc_messages(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {
        "name": f"{_pascal(op.name)}Request",
        "title": f"{op.service}.{op.name} request",
        "summary": op.summary,
        "contentType": "application/json",
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS.format(model="Request")},
                {
                    "type": "object",
                    "properties": {"payload": {"$ref": SCHEMAS.format(model=op.request.__name__)}},
                },
            ]
        },
    }
    reply = {
        "name": f"{_pascal(op.name)}Reply",
        "title": f"{op.service}.{op.name} reply",
        "summary": f"The result of {op.name}, or a typed error.",
        "contentType": "application/json",
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS.format(model="Reply")},
                {
                    "type": "object",
                    "properties": {"result": {"$ref": SCHEMAS.format(model=op.result.__name__)}},
                },
            ]
        },
    }
    return request, reply


def build(namespace: str = "attune", version: str = "1.0.0") -> dict[str, Any]:
    """The whole document, as a JSON-ready dict."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    models: list[type[BaseModel]] = [Envelope, Request, Reply]

    events = sorted(known_events().values(), key=lambda m: (m.owner, m.event_type, m.event_version))
    by_type: dict[tuple[str, str], list[type[EventData]]] = {}
    for model in events:
        by_type.setdefault((model.owner, model.event_type), []).append(model)
        models.append(model)
    for (owner, event_type), versions in by_type.items():
        channel_id = f"{owner}.{event_type}"
        refs = {}
        for model in versions:
            name, message = _event_message(model)
            messages[name] = message
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": f"{namespace}.{owner}.evt.{{{RELATIONSHIP}}}.{event_type}",
            "title": f"{event_type} ({owner})",
            "description": f"`{event_type}` events, published by {owner} on its stream.",
            "parameters": {
                RELATIONSHIP: {
                    "description": "The relationship the event belongs to "
                    f"(`{NO_RELATIONSHIP}` for events about a member)."
                }
            },
            "messages": refs,
        }
        operations[f"{owner}.publish.{event_type}"] = {
            "action": "send",
            "title": f"{owner} publishes {event_type}",
            "summary": f"Only {owner} publishes on this channel (per-service NATS permissions).",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in refs],
        }

    for op in OPERATIONS:
        models.extend([op.request, op.result])
        request, reply = _rpc_messages(op)
        messages[request["name"]] = request
        messages[reply["name"]] = reply
        subject = (command_subject if op.kind == "cmd" else query_subject)(
            namespace, op.service, op.name
        )
        channel_id = f"{op.kind}.{op.service}.{op.name}"
        reply_id = f"{channel_id}.reply"
        channels[channel_id] = {
            "address": subject,
            "title": f"{op.service}.{op.name}",
            "description": f"{'Command' if op.kind == 'cmd' else 'Query'}: {op.summary}",
            "messages": {request["name"]: {"$ref": f"#/components/messages/{request['name']}"}},
        }
        channels[reply_id] = {
            "address": None,  # the caller's inbox, named in the request's reply-to
            "description": f"The reply to {op.service}.{op.name}.",
            "messages": {reply["name"]: {"$ref": f"#/components/messages/{reply['name']}"}},
        }
        operations[f"{op.service}.{op.kind}.{op.name}"] = {
            "action": "receive",
            "title": f"{op.service} answers {op.name}",
            "summary": op.summary,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{request['name']}"}],
            "reply": {
                "address": {
                    "description": "The requester's inbox",
                    "location": "$message.header#/replyTo",
                },
                "channel": {"$ref": f"#/channels/{reply_id}"},
                "messages": [{"$ref": f"#/channels/{reply_id}/messages/{reply['name']}"}],
            },
        }

    unique = list(dict.fromkeys(models))
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "Attune messaging",
            "version": version,
            "description": DESCRIPTION,
            "license": {
                "name": "AGPL-3.0-or-later",
                "url": "https://www.gnu.org/licenses/agpl-3.0.html",
            },
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The embedded default's NATS server (JetStream); "
                "each service connects as its own user.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas(unique)},
    }
