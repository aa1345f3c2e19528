"""The deployment files stay in step with the code that defines them."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploy.nats_auth import cluster_config, nats_config, permissions

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_nats_config_holds_a_user_per_service_as_generated():
    text = (ROOT / "deploy" / "nats" / "nats.conf").read_text()
    assert text == cluster_config("attune")
    assert text.endswith(nats_config("attune"))
    for service in ("checkin", "scheduler", "insights", "gateway"):
        assert f"password: ${service.upper()}_NATS_PASSWORD" in text


def test_only_the_gateway_may_ask_the_others():
    assert "attune.cmd.>" in permissions("attune", "gateway")["publish"]["allow"]
    assert "attune.cmd.>" not in permissions("attune", "checkin")["publish"]["allow"]
    assert permissions("attune", "insights")["publish"]["allow"][0] == "attune.insights.evt.>"


def test_every_compose_service_connects_as_its_own_nats_user():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("checkin", "scheduler", "insights", "gateway"):
        env = compose["services"][service]["environment"]
        assert env["ATTUNE_NATS_USER"] == service
        assert env["ATTUNE_NATS_PASSWORD"].startswith(f"${{{service.upper()}_NATS_PASSWORD")
