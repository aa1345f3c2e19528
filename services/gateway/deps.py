"""Request dependencies: who is calling, and are they a member of the relationship in the path.

`CurrentMember` and `Membership` are the aliases routes use; both answer in
problem+json (401, or 404 so a relationship's existence is never revealed).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway import store
from services.gateway.auth import token_digest
from services.gateway.settings import GatewaySettings
from shared.envelope import new_id
from shared.mongo import Database, Document
from shared.problems import NotFound, TooManyRequests, Unauthorized
from shared.rpc import CallContext, RpcClient
from shared.runtime import ServiceRuntime

bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/token.")


@dataclass
class TokenBucket:
    """A per-key token bucket; one per gateway replica (limits are per replica)."""

    rate: float
    burst: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        if len(self.buckets) > 100_000:  # forget idle keys rather than grow without bound
            self.buckets.clear()
        return (1 - tokens) / self.rate


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


@dataclass(frozen=True)
class Caller:
    member_id: str
    token_digest: str


async def current_member(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("a bearer token is required", code="token_missing")
    digest = token_digest(credentials.credentials)
    wait = request.app.state.member_limits.take(digest)
    if wait:
        raise TooManyRequests("slow down a little", retry_after=max(1, round(wait + 0.5)))
    member_id = await store.member_for_token(db_of(request), digest, datetime.now(UTC))
    if member_id is None:
        raise Unauthorized("this token is not valid (any more)", code="token_invalid")
    return Caller(member_id, digest)


CurrentMember = Annotated[Caller, Depends(current_member)]


async def anonymous_limit(request: Request) -> None:
    """Sign-up and log-in are limited per client address, against password guessing."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.anonymous_limits.take(client)
    if wait:
        raise TooManyRequests(
            "too many attempts; wait a moment", retry_after=max(1, round(wait + 0.5))
        )


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
    document = await store.relationship(db_of(request), rid)
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
    return hashlib.sha256(f"{caller.token_digest}:{key}".encode()).hexdigest()


def require_operator(request: Request) -> None:
    expected = settings_of(request).ops_token
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    given = given or request.query_params.get("token", "")
    if expected is None or not secrets.compare_digest(given, expected.get_secret_value()):
        raise Unauthorized("the operator token is required", code="operator_token_required")
