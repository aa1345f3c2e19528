"""From events to signed HTTP deliveries: in order per endpoint, retried, then disabled.

A durable consumer on every stream turns each event that every member may see into one
delivery per matching endpoint (keyed by endpoint and event, so redelivery adds nothing).
A dispatcher loop sends the oldest waiting delivery of each endpoint - a newer one waits
behind an older one that is still being retried - records every attempt, backs off with
jitter over about a day, and disables an endpoint whose deliveries keep failing.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import certifi
import httpx

from services.gateway import store
from services.gateway.settings import DEVELOPMENT_WEBHOOK_KEY, GatewaySettings
from services.gateway.webhooks import signing
from services.gateway.webhooks.urls import Destination, check_destination
from shared import crypto, privacy, telemetry
from shared.consumer import without_buried
from shared.envelope import new_id
from shared.logging import get_logger
from shared.messages.base import DecodedEvent
from shared.metrics import WEBHOOK_ENDPOINTS_DISABLED
from shared.mongo import Document
from shared.problems import InvalidInput
from shared.repeating import Wake, repeat_when_due
from shared.runtime import ServiceRuntime
from shared.subjects import SERVICES
from shared.tombstones import members_mentioned

log = get_logger(__name__)


def webhook_key(settings: GatewaySettings) -> bytes:
    if settings.webhook_key is None:
        if settings.environment == "production":
            raise RuntimeError("ATTUNE_WEBHOOK_KEY must be set in production")
        return crypto.unb64(DEVELOPMENT_WEBHOOK_KEY)
    return crypto.unb64(settings.webhook_key.get_secret_value())


def seal_secret(settings: GatewaySettings, webhook_id: str, secret: str) -> str:
    return crypto.encrypt_text(webhook_key(settings), secret, f"webhook|{webhook_id}")


def open_secret(settings: GatewaySettings, webhook: Document) -> str:
    return crypto.decrypt_text(
        webhook_key(settings), webhook["secret"], f"webhook|{webhook['_id']}"
    )


def wants(webhook: Document, event_type: str) -> bool:
    types = webhook.get("event_types") or []
    return not webhook.get("disabled") and (not types or event_type in types)


class Deliveries:
    def __init__(self, runtime: ServiceRuntime, settings: GatewaySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.owner = new_id()
        self.wake = Wake()  # new deliveries in this process: send now, not at the safety timer
        self.tracer = telemetry.tracer(settings.service_name)
        # Built once: loading the CA bundle took ~30 ms of CPU for every dispatch round's
        # client (measured on the reference machine), longer than the rest of a delivery.
        self.tls = ssl.create_default_context(cafile=certifi.where())

    # -- events into deliveries ----------------------------------------------------------
    async def on_batch(self, batch: list[DecodedEvent]) -> None:
        """A batch of events into deliveries: one read of the endpoints concerned, one of
        the tombstones for the events an endpoint wants, and one bulk write. Deliveries are
        keyed by (endpoint, event), so a redelivered batch adds nothing and needs no
        processed markers."""
        # Only what every member may see ever leaves: no private entries, no member-only
        # insights, no author-only fields of a shared entry.
        shown = [(event, seen) for event in batch if event.envelope.relationship_id
                 and (seen := privacy.event_for(event.envelope, None)) is not None]  # fmt: skip
        if not shown:
            return
        db = self.runtime.db
        rids = sorted({str(e.relationship_id) for _event, e in shown})
        hooks = await store.webhooks_of_many(db, rids)
        if not hooks:
            return  # most relationships have none: nothing more to read
        hooked = {str(w["relationship_id"]) for w in hooks}
        shown = [(event, e) for event, e in shown if e.relationship_id in hooked]
        # Nothing about an erased member or relationship leaves, whenever it was published
        # (judged on the whole event: what is shown may leave out who wrote it).
        alive = {e.id for e in await without_buried(db, [event for event, _e in shown], "webhooks")}
        visible = [(e, event.trace) for event, e in shown if event.id in alive]
        now = datetime.now(UTC)
        # The dispatcher continues each event's own trace when it sends.
        found = [
            {"_id": f"{w['_id']}-{e.id}", "webhook_id": w["_id"], "event_id": e.id,
             "type": e.type, "order": f"{e.time.isoformat()}|{e.id}", "status": "pending",
             "attempts": [], "body": e.to_json().decode(), "next_attempt_at": now,
             "created_at": now, "trace": trace or telemetry.carrier(),
             "about": sorted(members_mentioned(e))}
            for e, trace in visible
            for w in hooks
            if w["relationship_id"] == e.relationship_id and wants(w, e.type)
        ]  # fmt: skip
        if found:
            await store.add_deliveries_at_once(db, found)
            self.wake.now()

    def wire(self) -> None:
        for owner in SERVICES:
            # A member's integration waits on these: only a short linger, which under load
            # still gathers a few events per read of the endpoints.
            self.runtime.consume_batches(
                owner, "webhooks", self.on_batch, leaves_out_erased=True,
                linger_seconds=self.settings.webhook_linger_seconds,
            )  # fmt: skip

    # -- sending -------------------------------------------------------------------------
    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is ours: past it, a replica that died is presumed gone."""
        return timedelta(seconds=self.settings.webhook_timeout_seconds + 15)

    async def dispatch_due(self, endpoints: int = 64, per_endpoint: int = 100) -> int:
        """Drain every endpoint with something due, side by side: a slow receiver only
        holds up its own deliveries."""
        due = await store.endpoints_with_due_deliveries(self.runtime.db, datetime.now(UTC))
        # No kept-alive connections: each attempt connects to the address just vetted, and
        # a connection made for one host name is never reused for another on the same address.
        async with httpx.AsyncClient(
            verify=self.tls,
            timeout=self.settings.webhook_timeout_seconds,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as http:
            results = await asyncio.gather(
                *(self._drain(http, webhook_id, per_endpoint) for webhook_id in due[:endpoints]),
                return_exceptions=True,  # every endpoint finishes before the client closes
            )
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the round is logged as failed; the next one tries again
        return sum(r for r in results if isinstance(r, int))

    async def _drain(self, http: httpx.AsyncClient, webhook_id: str, limit: int) -> int:
        """Send one endpoint's deliveries oldest first, until one has to wait (a retry
        later, or a lease another replica holds): in order per endpoint, across replicas."""
        db = self.runtime.db
        for sent in range(limit):
            now = datetime.now(UTC)
            oldest = await store.oldest_pending_delivery(db, webhook_id)
            if oldest is None:
                return sent
            if not self._may_send(oldest, now):
                # The newer ones wait for it: due no earlier than it is, they stop turning
                # up as due on every round (and taking other endpoints' turns).
                await store.postpone_deliveries(db, webhook_id, now, oldest["next_attempt_at"])
                return sent
            claim = {"next_attempt_at": now + self.lease, "lease_owner": self.owner}
            if not await store.claim_delivery(db, oldest, claim):
                return sent
            if not await self._attempt(http, oldest, now):
                return sent + 1
        return limit

    @staticmethod
    def _may_send(oldest: Document, now: datetime) -> bool:
        """Its time has come; or it was never tried nor claimed, so its time was only ever a
        postponement behind an older delivery, which is now through."""
        due_at: datetime = oldest["next_attempt_at"]
        never_tried = not oldest["attempts"] and oldest.get("lease_owner") is None
        return due_at <= now or never_tried

    async def _attempt(self, http: httpx.AsyncClient, due: Document, now: datetime) -> bool:
        """Send one delivery and record the attempt; True when the receiver took it."""
        with telemetry.resumed(
            self.tracer, f"{due['type']} webhook delivery", due.get("trace"),
            **{"messaging.message.id": due["event_id"]},
        ):  # fmt: skip
            return await self._send(http, due, now)

    async def _send(self, http: httpx.AsyncClient, due: Document, now: datetime) -> bool:
        db = self.runtime.db
        hook = await store.webhook_by_id(db, due["webhook_id"])
        if hook is None:
            return False
        if hook.get("disabled"):
            await store.update_delivery(
                db, due["_id"], {"next_attempt_at": now + timedelta(days=365)}, None
            )
            return False
        body = due["body"].encode()
        stamp = int(time.time())
        started = time.perf_counter()
        outcome: dict[str, Any] = {"at": now}
        try:
            # Again (DNS may have moved), and off the event loop: a slow resolver stalls no one.
            destination = await asyncio.to_thread(
                check_destination, hook["url"], self.settings.webhook_allow_loopback_http
            )
            headers = signing.headers(
                open_secret(self.settings, hook), due["event_id"], stamp, body
            )
            outcome["status_code"] = await self._post(http, destination, body, headers)
            ok = 200 <= outcome["status_code"] < 300
        except InvalidInput as exc:
            outcome["error"], ok = f"destination refused: {exc.message}", False
        except TimeoutError:
            outcome["error"], ok = "TimeoutError", False
        except httpx.HTTPError as exc:
            outcome["error"], ok = type(exc).__name__, False
        latency = round((time.perf_counter() - started) * 1000, 1)
        outcome["latency_ms"] = latency
        attempts = len(due["attempts"]) + 1
        common = {"last_attempt_at": now, "latency_ms": latency, "lease_owner": None,
                  "response_code": outcome.get("status_code")}  # fmt: skip
        if ok:
            done = {**common, "status": "delivered", "next_attempt_at": None}
            await store.update_delivery(db, due["_id"], done, outcome)
            # Read just before sending, and an endpoint's deliveries go one at a time: a run of
            # failures shows here if there is one to clear.
            if hook.get("failing_in_a_row"):
                await store.set_webhook_state(db, hook["_id"], {"failing_in_a_row": 0})
            return True
        schedule = self.settings.webhook_retry_seconds
        if attempts <= len(schedule):
            wait = schedule[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter only
            await store.update_delivery(
                db,
                due["_id"],
                {**common, "next_attempt_at": now + timedelta(seconds=wait)},
                outcome,
            )
            return False
        await store.update_delivery(
            db, due["_id"], {**common, "status": "failed", "next_attempt_at": None}, outcome
        )
        failing = int(hook.get("failing_in_a_row", 0)) + 1
        changes: dict[str, Any] = {"failing_in_a_row": failing}
        if failing >= self.settings.webhook_disable_after:
            last = outcome.get("status_code") or outcome.get("error")
            WEBHOOK_ENDPOINTS_DISABLED.inc()
            changes.update(
                disabled=True,
                disabled_reason=(
                    f"{failing} deliveries in a row failed after every retry (last: {last})"
                ),
            )
        await store.set_webhook_state(db, hook["_id"], changes)
        return False

    async def _post(
        self, http: httpx.AsyncClient, to: Destination, body: bytes, headers: dict[str, str]
    ) -> int:
        """The receiver's status code. Connects to the vetted address only, and reads nothing
        of the body: a receiver that answers slowly or streams forever is cut off whole after
        the timeout (the client's timeouts are per read, a trickle would never trip them)."""
        async with asyncio.timeout(self.settings.webhook_timeout_seconds):
            async with http.stream(
                "POST", to.connect_url, content=body,
                headers={**headers, "Host": to.host_header},
                extensions={"sni_hostname": to.host},
            ) as response:  # fmt: skip
                return response.status_code

    async def retry(self, hook: Document, delivery: Document) -> None:
        """A member retries by hand: the delivery is due now, and its endpoint enabled again."""
        db = self.runtime.db
        await store.set_webhook_state(
            db, hook["_id"], {"disabled": False, "disabled_reason": None, "failing_in_a_row": 0}
        )
        await store.update_delivery(
            db, delivery["_id"], {"status": "pending", "next_attempt_at": datetime.now(UTC)}, None
        )
        self.wake.now()  # due now: send it without waiting for the safety timer

    async def seconds_to_next(self) -> float | None:
        """Until the earliest pending delivery (or retry) falls due; None: nothing pending."""
        due = await store.next_delivery_due(self.runtime.db)
        return None if due is None else (due - datetime.now(UTC)).total_seconds()

    async def run(self) -> None:
        """Dispatch when this process adds deliveries or the next one falls due; the safety
        timer (webhook_tick_seconds) covers deliveries another replica added."""
        await repeat_when_due(self.dispatch_due, self.seconds_to_next, self.wake,
                              self.settings.webhook_tick_seconds, "webhooks")  # fmt: skip


def start_dispatching(runtime: ServiceRuntime, deliveries: Deliveries) -> None:
    async def start(rt: ServiceRuntime) -> None:
        await store.ensure_webhook_indexes(
            rt.db, timedelta(days=deliveries.settings.webhook_delivery_ttl_days)
        )
        rt.spawn(deliveries.run())

    runtime.on_startup(start)
