"""Production by default, and never with the public development keys: a service refuses to
start with a plain message; the operator token is compared as bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.checkin.settings import DEVELOPMENT_MASTER_KEYS, CheckinSettings
from services.gateway.app import create_app
from services.gateway.settings import DEVELOPMENT_WEBHOOK_KEY, GatewaySettings
from services.insights.settings import InsightsSettings
from services.scheduler.settings import SchedulerSettings
from shared.crypto import b64, generate_master_key_spec
from shared.settings import SealingSettings
from tests.support.gateway import http

ROOT = Path(__file__).resolve().parents[2]


def start(service: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env={**clean, "ATTUNE_ENVIRONMENT": "production", "ATTUNE_NATS_URL": "nats://127.0.0.1:9",
             "ATTUNE_MONGO_URL": "mongodb://127.0.0.1:9/", **env},
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("service", "env", "named"),
    [
        ("checkin", {"ATTUNE_MASTER_KEYS": DEVELOPMENT_MASTER_KEYS}, "ATTUNE_MASTER_KEYS"),
        ("checkin", {}, "ATTUNE_MASTER_KEYS"),
        ("scheduler", {"ATTUNE_MASTER_KEYS": DEVELOPMENT_MASTER_KEYS}, "ATTUNE_MASTER_KEYS"),
        ("scheduler", {}, "ATTUNE_MASTER_KEYS"),
        ("insights", {"ATTUNE_MASTER_KEYS": DEVELOPMENT_MASTER_KEYS}, "ATTUNE_MASTER_KEYS"),
        ("insights", {}, "ATTUNE_MASTER_KEYS"),
        ("gateway", {"ATTUNE_WEBHOOK_KEY": DEVELOPMENT_WEBHOOK_KEY}, "ATTUNE_WEBHOOK_KEY"),
        ("gateway", {}, "ATTUNE_WEBHOOK_KEY"),
    ],
)
def test_a_service_refuses_to_start_in_production_with_development_keys(service, env, named):
    finished = start(service, **env)
    assert finished.returncode != 0
    assert f"attune-{service} cannot start" in finished.stderr
    assert named in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_image_runs_production_by_default():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "ATTUNE_ENVIRONMENT=production" in dockerfile


def test_real_keys_pass_in_production():
    settings = GatewaySettings(environment="production", webhook_key=b64(os.urandom(32)))
    assert settings.environment == "production"


@pytest.mark.parametrize("settings_class", [CheckinSettings, SchedulerSettings, InsightsSettings])
def test_real_master_keys_pass_in_production(settings_class: type[SealingSettings]):
    spec = generate_master_key_spec("k1")
    settings = settings_class(environment="production", master_keys=spec, master_key_id="k1")
    assert settings.environment == "production"


async def test_a_non_ascii_operator_token_is_401(make_settings, nats_client, mongo):
    app = create_app(make_settings(GatewaySettings, ops_token="a-real-operator-token"))
    async with http(app) as client:
        refused = await client.get("/ops/summary", params={"token": "tökén"})
        wrong = await client.get("/ops/summary", headers={"Authorization": "Bearer nope"})
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert refused.json()["code"] == "operator_token_required"
