"""Traces across the services: W3C trace context from the HTTP request through NATS
request/reply, the write, the outbox, every consumer, and the webhook dispatcher.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (then spans go out over OTLP/HTTP; the other
standard `OTEL_*` variables apply), or a test adds an exporter. Spans hold names, subjects and
ids - never a body, a header value we did not put there, or a query string of /ops.

The context crosses NATS in the `traceparent` header (FastStream's telemetry middleware on
every broker). Work that happens later in another task - the outbox relay publishing an event,
the dispatcher sending a webhook - resumes the context stored beside that work when it was
written (`carrier()` / `resumed()`), so one check-in is one trace end to end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Never traced: probes and scrapes (noise), and /ops (its page takes the token as ?token=).
UNTRACED_URLS = "/healthz,/readyz,/metrics,/ops"

_PROPAGATOR = TraceContextTextMapPropagator()  # trace context only: no baggage crosses
_extra_exporters: list[SpanExporter] = []
_providers: dict[str, TracerProvider] = {}


def export_also_to(exporter: SpanExporter | None) -> None:
    """Send every service's spans to `exporter` as well (tests); None stops it."""
    _extra_exporters.clear()
    if exporter is not None:
        _extra_exporters.append(exporter)
    for provider in _providers.values():
        provider.shutdown()
    _providers.clear()


def enabled() -> bool:
    return bool(os.environ.get(ENDPOINT_VARIABLE)) or bool(_extra_exporters)


def provider(service: str) -> TracerProvider | None:
    """This service's tracer provider (one per service, so an in-process test tells them
    apart by `service.name`), or None when tracing is off."""
    if not enabled():
        return None
    if service not in _providers:
        made = TracerProvider(
            resource=Resource.create(
                {"service.name": f"attune-{service}", "service.namespace": "attune"}
            )
        )
        if os.environ.get(ENDPOINT_VARIABLE):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        for exporter in _extra_exporters:
            made.add_span_processor(SimpleSpanProcessor(exporter))
        _providers[service] = made
    return _providers[service]


def tracer(service: str) -> Tracer:
    found = provider(service)
    return found.get_tracer("attune") if found else trace.NoOpTracer()


def broker_middlewares(service: str) -> tuple[Any, ...]:
    """FastStream's NATS telemetry middleware: a span per publish and per message handled,
    with the trace context in the message headers."""
    found = provider(service)
    if found is None:
        return ()
    from faststream.nats.opentelemetry import NatsTelemetryMiddleware

    return (NatsTelemetryMiddleware(tracer_provider=found, meter_provider=NoOpMeterProvider()),)


def instrument_app(app: Any, service: str) -> None:
    """A server span per HTTP request (FastAPI instrumentation), headers not captured."""
    found = provider(service)
    if found is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=found, meter_provider=NoOpMeterProvider(),
        excluded_urls=UNTRACED_URLS,
    )  # fmt: skip


def carrier() -> dict[str, str]:
    """The current trace context as headers, to store beside work done later (may be empty)."""
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers)
    return headers


def carried(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The trace context among a message's headers (may be empty)."""
    return {k: v for k, v in (headers or {}).items() if k in _PROPAGATOR.fields}


@contextmanager
def resumed(
    on: Tracer, name: str, stored: dict[str, str] | None, **attributes: str
) -> Iterator[Span]:
    """A span continuing the trace whose context was stored with `carrier()`."""
    context = _PROPAGATOR.extract(stored or {})
    with on.start_as_current_span(
        name, context=context, kind=SpanKind.PRODUCER, attributes=attributes
    ) as span:
        yield span


def consumed(on: Tracer, name: str, headers: dict[str, str] | None, **attributes: str) -> None:
    """A span for one event a batch consumer applied, continuing the trace its message carries
    (a batch is fetched raw, outside FastStream's telemetry middleware)."""
    context = _PROPAGATOR.extract(headers or {})
    with on.start_as_current_span(
        name, context=context, kind=SpanKind.CONSUMER, attributes=attributes
    ):
        pass


def flush(service: str) -> None:
    found = _providers.get(service)
    if found is not None:
        found.force_flush(timeout_millis=2000)
