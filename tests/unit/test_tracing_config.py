"""Tracing is off unless asked for, and docker-compose ships a Jaeger the services export to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared import telemetry

ROOT = Path(__file__).resolve().parent.parent.parent


def test_tracing_is_off_without_an_otlp_endpoint(monkeypatch):
    monkeypatch.delenv(telemetry.ENDPOINT_VARIABLE, raising=False)
    assert not telemetry.enabled()
    assert telemetry.provider("checkin") is None
    assert telemetry.broker_middlewares("checkin") == ()
    assert telemetry.carrier() == {}  # nothing stored beside outbox events or deliveries


def test_an_otlp_endpoint_turns_it_on_with_a_service_name(monkeypatch):
    monkeypatch.setenv(telemetry.ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    try:
        provider = telemetry.provider("insights")
        assert provider is not None
        assert provider.resource.attributes["service.name"] == "attune-insights"
        assert len(telemetry.broker_middlewares("insights")) == 1
    finally:
        telemetry.export_also_to(None)  # drops the providers made here


@pytest.mark.parametrize("service", ["checkin", "scheduler", "insights", "gateway"])
def test_compose_services_export_traces_to_its_jaeger(service):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jaeger = compose["services"]["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert all(port.startswith("127.0.0.1:") for port in jaeger["ports"])
    endpoint = compose["services"][service]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint.endswith("http://jaeger:4318}")
