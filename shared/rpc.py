"""Commands and queries over NATS request/reply, with typed results and typed errors.

Every request carries who acts and the gateway's authoritative view of the
relationship's members, so the owning service never decides on a read model
that has not caught up yet.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.envelope import new_id
from shared.logging import bind_context, failure, get_logger
from shared.messages.asks import Asks, answer_type
from shared.messages.asks import Empty as Empty  # re-exported for the services
from shared.metrics import RPC_CALL_FAILURES, RPC_HANDLED, RPC_LATENCY
from shared.nats import raw_body
from shared.nats_message import IncomingMessage
from shared.problems import AttuneError, ErrorBody, InternalError, InvalidInput, Unavailable
from shared.subjects import command_subject, query_subject

log = get_logger(__name__)

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)

Kind = Literal["cmd", "qry"]


class CallContext(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    actor_id: str | None = None
    relationship_id: str | None = None
    members: list[str] = Field(default_factory=list)
    membership_version: int = 0
    correlation_id: str | None = None


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore")

    command_id: str = Field(min_length=1, max_length=128)
    context: CallContext
    payload: dict[str, Any]


class Reply(BaseModel):
    ok: bool
    result: dict[str, Any] | None = None
    error: ErrorBody | None = None
    replayed: bool = False  # the result is the first answer to this command id, given again


# Set by a handler that answers a repeated command id with its first result.
_replayed: ContextVar[bool] = ContextVar("attune_rpc_replayed", default=False)


def mark_replayed() -> None:
    """Say that this reply repeats the first answer to the command (the gateway tells the
    client with an `Idempotent-Replayed` header)."""
    _replayed.set(True)


class Pong(BaseModel):
    """Every service's answer to `ping`: who it is and whether it is ready."""

    service: str
    ready: bool
    version: str = "dev"
    uptime_seconds: float = 0.0
    outbox_pending: int | None = None  # events written and not yet published


class Ping(Asks[Pong]):
    """Is the service up and ready? Every service answers it (address it by `service=`)."""


def subject_for(namespace: str, kind: Kind, service: str, name: str) -> str:
    builder = command_subject if kind == "cmd" else query_subject
    return builder(namespace, service, name)


class RpcClient:
    """Calls a service and returns its typed result, or raises its typed error."""

    def __init__(self, broker: NatsBroker, namespace: str, timeout: float = 5.0) -> None:
        self._broker = broker
        self._namespace = namespace
        self._timeout = timeout

    async def call(
        self,
        message: Asks[R],
        *,
        context: CallContext,
        service: str | None = None,
        command_id: str | None = None,
        timeout: float | None = None,
    ) -> R:
        """Send `message` to the service that answers its type (shared/contract.py) and
        return the answer its type names. `service` addresses the operations every
        service answers (Ping, RedriveDeadLetter)."""
        result, _replayed = await self.call_replayable(
            message, context=context, service=service, command_id=command_id, timeout=timeout
        )
        return result

    async def call_replayable(
        self,
        message: Asks[R],
        *,
        context: CallContext,
        service: str | None = None,
        command_id: str | None = None,
        timeout: float | None = None,
    ) -> tuple[R, bool]:
        """The typed answer, and whether it repeats the first answer to this command id."""
        from shared.contract import operation_for  # the catalog imports this module

        op = operation_for(type(message), service)
        result_type: type[R] = answer_type(type(message))  # type: ignore[assignment]
        return await self.call_named_replayable(
            op.kind, op.service, op.name, message, result_type,
            context=context, command_id=command_id, timeout=timeout,
        )  # fmt: skip

    async def call_named(
        self,
        kind: Kind,
        service: str,
        name: str,
        payload: BaseModel,
        result_type: type[R],
        *,
        context: CallContext,
        command_id: str | None = None,
        timeout: float | None = None,
    ) -> R:
        """A call by subject name: for tests of the transport itself; code uses `call`."""
        result, _replayed = await self.call_named_replayable(
            kind, service, name, payload, result_type,
            context=context, command_id=command_id, timeout=timeout,
        )  # fmt: skip
        return result

    async def call_named_replayable(
        self,
        kind: Kind,
        service: str,
        name: str,
        payload: BaseModel,
        result_type: type[R],
        *,
        context: CallContext,
        command_id: str | None = None,
        timeout: float | None = None,
    ) -> tuple[R, bool]:
        """The typed result, and whether it repeats the first answer to this command id."""
        request = Request(
            command_id=command_id or new_id(),
            context=context,
            payload=payload.model_dump(mode="json"),
        )
        subject = subject_for(self._namespace, kind, service, name)
        try:
            response = await self._broker.request(
                request.model_dump_json().encode(),
                subject,
                correlation_id=context.correlation_id,
                timeout=timeout or self._timeout,
            )
        except (NoRespondersError, NatsTimeoutError, TimeoutError) as exc:
            RPC_CALL_FAILURES.labels(service=service).inc()
            raise Unavailable(f"{service} did not answer in time") from exc
        except Exception as exc:  # the connection itself is down
            RPC_CALL_FAILURES.labels(service=service).inc()
            raise Unavailable(f"{service} cannot be reached") from exc
        reply = Reply.model_validate_json(response.body)
        if not reply.ok:
            raise AttuneError.from_body(reply.error or InternalError("no error body").to_body())
        return result_type.model_validate(reply.result or {}), reply.replayed


Handler = Callable[[P, Request], Awaitable[BaseModel]]


def responder(name: str, payload_type: type[P], handler: Handler[P]) -> Callable[..., Any]:
    """Wrap a handler so that every outcome, good or bad, becomes a typed Reply."""

    async def respond(msg: IncomingMessage) -> bytes:
        started = time.perf_counter()
        outcome = "ok"
        try:
            try:
                request = Request.model_validate_json(msg.body)
                payload = payload_type.model_validate(request.payload)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or None
                raise InvalidInput(first["msg"], field=field) from exc
            with bind_context(
                correlation_id=request.context.correlation_id,
                command_id=request.command_id,
                rpc=name,
            ):
                _replayed.set(False)
                result = await handler(payload, request)
            reply = Reply(ok=True, result=result.model_dump(mode="json"), replayed=_replayed.get())
        except AttuneError as exc:
            outcome = exc.code
            reply = Reply(ok=False, error=exc.to_body())
        except Exception as exc:
            outcome = "internal_error"
            log.error("rpc_failed", rpc=name, **failure(exc))
            reply = Reply(ok=False, error=Unavailable("temporarily unable to answer").to_body())
        RPC_HANDLED.labels(name=name, outcome=outcome).inc()
        RPC_LATENCY.labels(name=name).observe(time.perf_counter() - started)
        return reply.model_dump_json(exclude_none=True).encode()

    respond.__name__ = f"respond_{name}"
    return respond


def register_responder(
    broker: NatsBroker,
    namespace: str,
    service: str,
    kind: Kind,
    name: str,
    payload_type: type[P],
    handler: Handler[P],
) -> Any:
    """Subscribe in a queue group so replicas of a service share the requests."""
    return broker.subscriber(
        subject_for(namespace, kind, service, name),
        queue=f"{service}-{kind}",
        # Answer several requests at once: handlers wait on MongoDB most of the time.
        max_workers=16,
        decoder=raw_body,
        title=f"{service}.{kind}.{name}",
    )(responder(name, payload_type, handler))
