"""A request that names its answer: `class LogCheckin(Asks[Entry])`.

The request's type is its address (shared/contract.py maps it to the service and subject
that answer it) and its type parameter is the answer's model, so `rpc.call(LogCheckin(...))`
is typed end to end and a reader can follow a command from the route to its handler.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

R = TypeVar("R", bound=BaseModel)


class Asks(BaseModel, Generic[R]):
    """Base of every command and query payload; `R` is what the answer holds."""


def answer_type(request_type: type[BaseModel]) -> type[BaseModel]:
    """The model `request_type` declares as its answer (`Asks[<this>]`)."""
    for base in request_type.__mro__:
        metadata: dict[str, Any] = getattr(base, "__pydantic_generic_metadata__", None) or {}
        if metadata.get("origin") is Asks and metadata.get("args"):
            answer = metadata["args"][0]
            assert isinstance(answer, type) and issubclass(answer, BaseModel)
            return answer
    raise TypeError(f"{request_type.__name__} does not say what it asks for (Asks[...])")


class Empty(BaseModel):
    """A payload or result with nothing in it (a ping, an ack)."""


class Anything(BaseModel):
    """A result whose shape is the owning service's export format (a JSON object)."""

    model_config = {"extra": "allow"}
