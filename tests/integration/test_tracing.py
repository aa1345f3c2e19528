"""One check-in is one trace: the gateway's HTTP span, the request/reply to checkin, its write,
the outbox publish, insights applying the event, and the webhook dispatcher sending it - joined
by W3C trace context in NATS headers and in the outbox and delivery records.

All four services run in this process (real NATS and MongoDB), each with its own tracer
provider and `service.name`, all feeding the SDK's in-memory exporter: spans of separate
processes could only be compared through a collector, and the propagation under test is the
same either way (every hop crosses NATS or is resumed from a stored context)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.checkin.app import create_runtime as checkin_runtime
from services.checkin.settings import CheckinSettings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.insights.app import create_runtime as insights_runtime
from services.insights.settings import InsightsSettings
from services.scheduler.app import create_runtime as scheduler_runtime
from services.scheduler.settings import SchedulerSettings
from shared import telemetry
from tests.support.api import couple
from tests.support.gateway import http
from tests.support.receiver import Receiver
from tests.support.runtimes import running
from tests.support.waiting import eventually


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    telemetry.export_also_to(exporter)
    yield exporter
    telemetry.export_also_to(None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


async def test_one_checkin_is_one_trace_across_gateway_checkin_insights_and_webhooks(
    spans, receiver, make_settings, nats_client, mongo
):
    backends = [
        checkin_runtime(make_settings(CheckinSettings)),
        insights_runtime(make_settings(InsightsSettings)),
        scheduler_runtime(make_settings(SchedulerSettings)),
    ]
    app = create_app(make_settings(GatewaySettings, webhook_allow_loopback_http=True))
    async with running(*backends), http(app) as client:
        await eventually(lambda: client.get("/readyz"), timeout=60)
        rid, (ada, _bo) = await couple(client, "Ada", "Bo")
        await ada.ok("POST", f"/v1/relationships/{rid}/webhooks",
                     {"url": receiver.url, "event_types": ["checkin.logged"]})  # fmt: skip
        spans.clear()
        entry = await ada.ok("POST", f"/v1/relationships/{rid}/checkins",
                             {"mood": 4, "connection": 7, "note": "private words",
                              "visibility": "shared"})  # fmt: skip
        await eventually(lambda: receiver.received, timeout=60)

        def the_trace() -> list[ReadableSpan] | None:
            finished = list(spans.get_finished_spans())
            roots = [s for s in finished if s.name == "POST /v1/relationships/{rid}/checkins"
                     and s.parent is None]  # fmt: skip
            if not roots:
                return None
            trace_id = roots[0].context.trace_id
            mine = [s for s in finished if s.context.trace_id == trace_id]
            names = {(service(s), s.name) for s in mine}
            wanted = {("attune-gateway", "checkin.logged webhook delivery"),
                      ("attune-checkin", "checkin.logged outbox publish")}  # fmt: skip
            insights_applied = any(service(s) == "attune-insights" and "process" in s.name
                                   for s in mine)  # fmt: skip
            return mine if wanted <= names and insights_applied else None

        trace = await eventually(the_trace, timeout=60)

    by_service = {service(s) for s in trace}
    assert {"attune-gateway", "attune-checkin", "attune-insights"} <= by_service
    names = [s.name for s in trace]
    assert "checkin write" in names  # the command's one write
    assert any(n.endswith("cmd.checkin.log_checkin process") for n in names), names
    assert any(n.endswith(".checkin.logged publish") for n in names), names
    # Every span of the trace hangs off another one of it: nothing started a trace of its own.
    ids = {s.context.span_id for s in trace}
    assert all(s.parent is None or s.parent.span_id in ids for s in trace)
    assert sum(1 for s in trace if s.parent is None) == 1
    # Names, subjects and ids only: nothing a member wrote.
    for span in trace:
        assert "private words" not in str(dict(span.attributes or {}))
    assert entry["id"]
