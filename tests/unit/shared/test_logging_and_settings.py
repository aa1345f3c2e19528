"""Logs are JSON with the correlation id; production refuses placeholder secrets."""

from __future__ import annotations

import json

import pytest
import structlog
from pydantic import ValidationError

from services.gateway.settings import GatewaySettings
from shared.logging import bind_context, configure_logging, get_logger


@pytest.fixture
def json_logs():
    yield
    structlog.reset_defaults()  # the captured stream closes after the test


def test_log_lines_are_json_and_carry_the_bound_correlation_id(capsys, json_logs):
    configure_logging("checkin", "INFO", json=True)
    with bind_context(correlation_id="corr-7", event_id="e1"):
        get_logger("t").info("bid_answered", bid_id="b1")
    get_logger("t").info("after")
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["event"] == "bid_answered"
    assert lines[0]["correlation_id"] == "corr-7"
    assert lines[0]["service"] == "checkin"
    assert "correlation_id" not in lines[1]


def test_settings_come_from_attune_environment_variables(monkeypatch):
    monkeypatch.setenv("ATTUNE_NAMESPACE", "staging")
    monkeypatch.setenv("ATTUNE_NATS_URL", "nats://nats.internal:4222")
    settings = GatewaySettings()
    assert settings.namespace == "staging"
    assert settings.nats_url == "nats://nats.internal:4222"
    assert settings.database_name == "staging_gateway"


def test_production_refuses_a_placeholder_secret():
    with pytest.raises(ValidationError, match="placeholder"):
        GatewaySettings(environment="production", ops_token="changeme")
    assert GatewaySettings(environment="development", ops_token="changeme").ops_token


def test_a_namespace_that_would_break_subjects_is_refused():
    with pytest.raises(ValidationError):
        GatewaySettings(namespace="has.dots")
