"""Webhook subscriptions per relationship, their deliveries, and retrying one by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import store
from services.gateway.deps import EntryId, Membership, db_of, settings_of
from services.gateway.routes.errors import AUTHED, WRITE
from services.gateway.webhooks import signing
from services.gateway.webhooks.delivery import Deliveries, seal_secret
from services.gateway.webhooks.urls import check_url
from shared.envelope import new_id
from shared.messages.base import known_events
from shared.problems import Conflict, InvalidInput, NotFound

router = APIRouter(prefix="/v1/relationships/{rid}/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://calendar.example/attune"])
    event_types: list[str] = Field(default_factory=list, max_length=50,
                                   description="Empty: every event type.")  # fmt: skip


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    disabled: bool = False
    disabled_reason: str | None = None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_...: shown once; verify deliveries with it.")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    type: str
    status: str
    response_code: int | None = None
    next_retry_at: datetime | None = None
    attempts: list[dict[str, Any]]


def out(hook: dict[str, Any]) -> WebhookOut:
    return WebhookOut(id=hook["_id"], url=hook["url"], event_types=hook["event_types"],
                      disabled=hook.get("disabled", False),
                      disabled_reason=hook.get("disabled_reason"),
                      created_at=hook["created_at"])  # fmt: skip


@router.post("", status_code=201, response_model=WebhookCreated, responses=WRITE,
             summary="Subscribe an integration to this relationship's shared events")  # fmt: skip
async def create(body: WebhookIn, ctx: Membership, request: Request) -> WebhookCreated:
    settings = settings_of(request)
    limit = settings.max_webhooks_per_relationship
    if await store.count_webhooks(db_of(request), ctx.relationship_id) >= limit:
        raise Conflict(f"a relationship has at most {limit} webhooks; remove one first",
                       code="webhook_limit_reached")  # fmt: skip
    # The check resolves the host name: off the event loop, so a slow resolver stalls no one.
    await asyncio.to_thread(check_url, body.url, settings.webhook_allow_loopback_http)
    known = {t for t, _ in known_events()}
    unknown = sorted(set(body.event_types) - known)
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}", field="event_types")
    webhook_id, secret = new_id(), signing.new_secret()
    hook = {
        "_id": webhook_id, "relationship_id": ctx.relationship_id, "url": body.url,
        "event_types": body.event_types, "created_by": ctx.member_id,
        "secret": seal_secret(settings, webhook_id, secret), "created_at": datetime.now(UTC),
    }  # fmt: skip
    await store.insert_webhook(db_of(request), hook)
    return WebhookCreated(**out(hook).model_dump(), secret=secret)


@router.get("", response_model=list[WebhookOut], responses=AUTHED, summary="Subscriptions")
async def list_webhooks(ctx: Membership, request: Request) -> list[WebhookOut]:
    return [out(h) for h in await store.webhooks_of(db_of(request), ctx.relationship_id)]


@router.delete("/{webhook_id}", status_code=204, responses=AUTHED, summary="Unsubscribe")
async def delete(webhook_id: EntryId, ctx: Membership, request: Request) -> Response:
    if not await store.delete_webhook(db_of(request), ctx.relationship_id, webhook_id):
        raise NotFound("webhook not found", code="webhook_not_found")
    return Response(status_code=204)


async def _hook(request: Request, ctx: Membership, webhook_id: str) -> dict[str, Any]:
    hook = await store.webhook(db_of(request), ctx.relationship_id, webhook_id)
    if hook is None:
        raise NotFound("webhook not found", code="webhook_not_found")
    return hook


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=AUTHED,
            summary="Delivery attempts, newest first")  # fmt: skip
async def deliveries(
    webhook_id: EntryId, ctx: Membership, request: Request,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[DeliveryOut]:  # fmt: skip
    await _hook(request, ctx, webhook_id)
    found = await store.deliveries_of(db_of(request), webhook_id, limit)
    return [
        DeliveryOut(id=d["_id"], event_id=d["event_id"], type=d["type"], status=d["status"],
                    response_code=d.get("response_code"),
                    next_retry_at=d.get("next_attempt_at") if d["status"] == "pending" else None,
                    attempts=[{k: v for k, v in a.items()} for a in d.get("attempts", [])])
        for d in found
    ]  # fmt: skip


DeliveryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,140}$")]


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", status_code=202, responses=WRITE,
             summary="Retry a delivery now (also enables a disabled endpoint)")  # fmt: skip
async def retry(
    webhook_id: EntryId, delivery_id: DeliveryId, ctx: Membership, request: Request
) -> dict[str, str]:
    hook = await _hook(request, ctx, webhook_id)
    found = await store.delivery(db_of(request), webhook_id, delivery_id)
    if found is None:
        raise NotFound("delivery not found", code="delivery_not_found")
    deliveries_: Deliveries = request.app.state.deliveries
    await deliveries_.retry(hook, found)
    return {"status": "queued"}
