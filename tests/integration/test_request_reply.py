"""Commands and queries over real NATS: typed results, typed errors, clean unavailability."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.checkin.settings import CheckinSettings
from shared.problems import Conflict, InvalidInput, Unavailable
from shared.rpc import CallContext, Request, RpcClient
from shared.runtime import ServiceRuntime
from tests.support.runtimes import running


class Double(BaseModel):
    value: int


class Doubled(BaseModel):
    value: int
    actor_id: str | None


async def double(payload: Double, request: Request) -> Doubled:
    if payload.value < 0:
        raise Conflict("negative numbers are not welcome here", code="negative")
    if payload.value == 13:
        raise ZeroDivisionError("an unexpected bug")
    return Doubled(value=payload.value * 2, actor_id=request.context.actor_id)


@pytest.fixture
async def service(make_settings, nats_client, mongo):
    runtime = ServiceRuntime(make_settings(CheckinSettings))
    runtime.respond("cmd", "double", Double, double)
    async with running(runtime):
        yield runtime


@pytest.fixture
def rpc(service) -> RpcClient:
    return RpcClient(service.broker, service.settings.namespace, timeout=2)


CONTEXT = CallContext(actor_id="m_alice", relationship_id="r1", members=["m_alice"])


async def test_a_command_returns_its_typed_result(rpc):
    result = await rpc.call_named(
        "cmd", "checkin", "double", Double(value=21), Doubled, context=CONTEXT
    )
    assert result == Doubled(value=42, actor_id="m_alice")


async def test_a_domain_error_arrives_as_the_same_typed_error(rpc):
    with pytest.raises(Conflict) as caught:
        await rpc.call_named("cmd", "checkin", "double", Double(value=-1), Doubled, context=CONTEXT)
    assert caught.value.code == "negative"
    assert caught.value.status == 409


async def test_an_invalid_payload_is_a_422_naming_the_field(rpc):
    class Wrong(BaseModel):
        value: str

    with pytest.raises(InvalidInput) as caught:
        await rpc.call_named("cmd", "checkin", "double", Wrong(value="x"), Doubled, context=CONTEXT)
    assert caught.value.field == "value"


async def test_a_bug_in_a_handler_is_a_retryable_unavailable_not_a_crash(rpc):
    with pytest.raises(Unavailable):
        await rpc.call_named("cmd", "checkin", "double", Double(value=13), Doubled, context=CONTEXT)
    result = await rpc.call_named(
        "cmd", "checkin", "double", Double(value=1), Doubled, context=CONTEXT
    )
    assert result.value == 2


async def test_nobody_listening_is_unavailable(rpc):
    with pytest.raises(Unavailable, match="scheduler"):
        await rpc.call_named(
            "cmd", "scheduler", "double", Double(value=1), Doubled, context=CONTEXT
        )


async def test_every_service_answers_ping_with_its_readiness(rpc):
    from shared.rpc import Ping

    pong = await rpc.call(Ping(), service="checkin", context=CallContext())
    assert (pong.service, pong.ready) == ("checkin", True)
    assert pong.version and pong.uptime_seconds >= 0
