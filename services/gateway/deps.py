"""Request dependencies: who is calling, and are they a member of the relationship in the path.

`CurrentMember` and `Membership` are the aliases routes use; both answer in
problem+json (401, or 404 so a relationship's existence is never revealed).
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from cachetools import TTLCache
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway import store
from services.gateway.access import Access
from services.gateway.auth import token_digest
from services.gateway.idempotency_keys import request_id
from services.gateway.settings import GatewaySettings
from shared.envelope import new_id
from shared.mongo import Database, Document
from shared.problems import NotFound, TooManyRequests, Unauthorized
from shared.rpc import CallContext, RpcClient
from shared.runtime import ServiceRuntime

bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/token.")


class TokenBucket:
    """Per-key token buckets in bounded memory; one per gateway replica (limits are per replica).

    A bucket left alone until it has refilled is the same as no bucket, so it expires then;
    past `max_keys` the least recently used one goes. Nothing ever resets everyone at once.
    """

    def __init__(self, rate: float, burst: int, max_keys: int = 50_000) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets: TTLCache[str, tuple[float, float]] = TTLCache(
            maxsize=max_keys, ttl=burst / rate, timer=time.monotonic
        )

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self.buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def wait(self, key: str, now: float | None = None) -> float:
        """The seconds until `key` may act again (0 when it may now); takes nothing."""
        tokens = self._tokens(key, time.monotonic() if now is None else now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(key, now)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def __len__(self) -> int:
        return len(self.buckets)


def client_key(request: Request) -> str:
    """Who is asking, for per-address limits: the IPv4 address, or the IPv6 /64 (one host
    usually holds a whole /64, so single IPv6 addresses would be free to rotate)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def retry_after(wait: float) -> int:
    return max(1, round(wait + 0.5))


def settings_of(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.db


def rpc_of(request: Request) -> RpcClient:
    rpc: RpcClient = request.app.state.rpc
    return rpc


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def access_of(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


@dataclass(frozen=True)
class Caller:
    member_id: str
    token_digest: str


async def verified_caller(request: Request, token: str) -> Caller | None:
    """The member a token belongs to, or None. Tokens that turn out invalid count against the
    client's address: guessing (or random tokens) is throttled before it costs a lookup."""
    limits: TokenBucket = request.app.state.invalid_token_limits
    address = client_key(request)
    wait = limits.wait(address)
    if wait:
        raise TooManyRequests("too many invalid tokens; wait a moment",
                              retry_after=retry_after(wait))  # fmt: skip
    digest, db, now = token_digest(token), db_of(request), datetime.now(UTC)
    member_id = await access_of(request).cache.token_holder(
        digest, now, lambda: store.token_holder(db, digest, now)
    )
    if member_id is None:
        limits.take(address)
        return None
    return Caller(member_id, digest)


async def current_member(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("a bearer token is required", code="token_missing")
    # The Idempotency middleware may have verified this very token already.
    digest = token_digest(credentials.credentials)
    if getattr(request.state, "checked_token", None) == digest:
        caller: Caller | None = request.state.caller
    else:
        caller = await verified_caller(request, credentials.credentials)
    if caller is None:
        raise Unauthorized("this token is not valid (any more)", code="token_invalid")
    # Keyed by the member, not the token: many tokens of one member share one limit.
    wait = request.app.state.member_limits.take(caller.member_id)
    if wait:
        raise TooManyRequests("slow down a little", retry_after=retry_after(wait))
    return caller


CurrentMember = Annotated[Caller, Depends(current_member)]


async def anonymous_limit(request: Request) -> None:
    """Sign-up and log-in are limited per client address, against password guessing."""
    wait = request.app.state.anonymous_limits.take(client_key(request))
    if wait:
        raise TooManyRequests("too many attempts; wait a moment", retry_after=retry_after(wait))


AnonymousLimit = Depends(anonymous_limit)


@dataclass(frozen=True)
class MemberContext:
    caller: Caller
    relationship: Document
    correlation_id: str

    @property
    def member_id(self) -> str:
        return self.caller.member_id

    @property
    def relationship_id(self) -> str:
        return str(self.relationship["_id"])

    def call_context(self) -> CallContext:
        return CallContext(
            actor_id=self.caller.member_id,
            relationship_id=self.relationship_id,
            members=list(self.relationship["members"]),
            membership_version=int(self.relationship["membership_version"]),
            correlation_id=self.correlation_id,
        )


RelationshipId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)]
EntryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)]


async def membership(request: Request, rid: RelationshipId, caller: CurrentMember) -> MemberContext:
    db = db_of(request)
    document = await access_of(request).cache.relationship(rid, lambda: store.relationship(db, rid))
    if document is None or caller.member_id not in document["members"]:
        raise NotFound("relationship not found", code="relationship_not_found")
    return MemberContext(caller, document, correlation_of(request))


Membership = Annotated[MemberContext, Depends(membership)]


def correlation_of(request: Request) -> str:
    return getattr(request.state, "correlation_id", None) or new_id()


def command_id(request: Request, caller: Caller) -> str:
    """Derived from the Idempotency-Key, so a retried POST is the same command downstream."""
    key = request.headers.get("idempotency-key")
    if not key:
        return new_id()
    return request_id(caller.member_id, request.method, request.scope["path"], key)


def require_operator(request: Request) -> None:
    expected = settings_of(request).ops_token
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    given = given or request.query_params.get("token", "")
    # As bytes: compare_digest refuses non-ASCII text, which must be a wrong token, not a 500.
    if expected is None or not secrets.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized("the operator token is required", code="operator_token_required")
