"""`/ops/dead-letters`: list, inspect, redrive and purge, behind the operator token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway.deps import require_operator, rpc_of, runtime_of
from services.gateway.ops import dead_letters
from services.gateway.routes.errors import problems
from shared.problems import InvalidInput

# The token is checked before anything else is read, so a stranger learns nothing from a 422.
router = APIRouter(
    prefix="/ops/dead-letters", tags=["operations"], dependencies=[Depends(require_operator)]
)
REASON = Field(min_length=1, max_length=1000)


class RedriveSelection(BaseModel):
    """Exactly one: every dead letter with this reason (only those of `event_type`, when
    given: one group of the listing), or the one with this sequence."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str | None, REASON] = None
    event_type: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    sequence: Annotated[int | None, Field(ge=1)] = None

    @model_validator(mode="after")
    def exactly_one(self) -> RedriveSelection:
        if (self.reason is None) == (self.sequence is None):
            raise ValueError("give either a reason or a sequence")
        if self.event_type is not None and self.reason is None:
            raise ValueError("an event type narrows a reason: give it with a reason")
        return self


@router.get(
    "",
    responses=problems(401),
    summary="Dead letters grouped by service, reason and event type (counts only)",
)
async def list_groups(request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    found = await dead_letters.groups(runtime.broker.connection, runtime.settings.namespace)
    return {"groups": found, "total": sum(g["count"] for g in found)}


@router.get(
    "/{service}/{sequence}",
    responses=problems(401, 404, 422),
    summary="One dead letter's metadata, reason and original subject (never its body)",
)
async def show(request: Request, service: str, sequence: int) -> dict[str, Any]:
    runtime = runtime_of(request)
    letter = await dead_letters.one(
        runtime.broker.connection,
        runtime.settings.namespace,
        dead_letters.known_service(service),
        sequence,
    )
    return letter.as_json()


@router.post(
    "/{service}/redrive",
    responses=problems(401, 404, 422),
    summary="Publish dead letters back onto their original subject, then remove them",
)
async def redrive(request: Request, service: str, selection: RedriveSelection) -> dict[str, Any]:
    runtime = runtime_of(request)
    connection, namespace = runtime.broker.connection, runtime.settings.namespace
    letters = await dead_letters.select(
        connection,
        namespace,
        dead_letters.known_service(service),
        selection.reason,
        selection.sequence,
        selection.event_type,
    )
    return await dead_letters.redrive(connection, rpc_of(request), namespace, letters)


@router.delete(
    "/{service}/{sequence}", responses=problems(401, 404, 422), summary="Remove one dead letter"
)
async def purge_one(request: Request, service: str, sequence: int) -> dict[str, int]:
    runtime = runtime_of(request)
    connection, namespace = runtime.broker.connection, runtime.settings.namespace
    letter = await dead_letters.one(
        connection, namespace, dead_letters.known_service(service), sequence
    )
    return {"removed": await dead_letters.purge(connection, namespace, [letter])}


@router.delete(
    "/{service}",
    responses=problems(401, 404, 422),
    summary="Remove a service's dead letters with a reason, or all of them (all=true)",
)
async def purge(
    request: Request,
    service: str,
    reason: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    everything: Annotated[bool, Query(alias="all")] = False,
) -> dict[str, int]:
    runtime = runtime_of(request)
    connection, namespace = runtime.broker.connection, runtime.settings.namespace
    service = dead_letters.known_service(service)
    if (reason is None) == (not everything):
        # Emptying a whole queue is never the default of a request that forgot its reason.
        raise InvalidInput("give either a reason or all=true", field="reason")
    if reason is None:
        return {"removed": await dead_letters.purge_all(connection, namespace, service)}
    letters = await dead_letters.select(connection, namespace, service, reason, None)
    return {"removed": await dead_letters.purge(connection, namespace, letters)}
