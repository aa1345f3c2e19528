"""The event contract: the AsyncAPI 3 document of every event, command and query."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Request

from shared import asyncapi
from shared.health import VERSION

router = APIRouter(tags=["operations"])


@cache
def _document(namespace: str) -> dict[str, Any]:
    return asyncapi.build(namespace, VERSION if VERSION[0].isdigit() else "1.0.0")


@router.get(
    "/asyncapi.json",
    summary="The event contract (AsyncAPI 3)",
    description="Every event, command and query on NATS, with its owner, subject and schema, "
    "generated from the code's message registry.",
)
async def asyncapi_document(request: Request) -> dict[str, Any]:
    return _document(request.app.state.settings.namespace)
