"""The alerting rules in deploy/prometheus/ are valid, fire when they should (promtool's own
rule tests), and only use metrics the services really export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import services.gateway.middleware  # noqa: F401 - registers the HTTP metrics
import shared.metrics  # noqa: F401 - registers the service metrics

RULES = Path(__file__).resolve().parent.parent.parent / "deploy" / "prometheus"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (make test installs Debian's prometheus)")
    return found


def run(*args: str, cwd: Path = RULES) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def test_promtool_accepts_the_rules_and_the_scrape_config(tmp_path):
    checked = run("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout + checked.stderr
    # promtool wants the token file to exist: the same config, with one made up for the check.
    config = yaml.safe_load((RULES / "prometheus.yml").read_text())
    (gateway,) = [job for job in config["scrape_configs"] if job["job_name"] == "attune-gateway"]
    (tmp_path / "token").write_text("made-up-for-the-check\n")
    gateway["authorization"]["credentials_file"] = str(tmp_path / "token")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    shutil.copy(RULES / "alerts.yml", tmp_path / "alerts.yml")
    checked = run("check", "config", "prometheus.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_gateway_is_scraped_with_the_operator_token():
    """Its /metrics answers 401 without it: the job would be down and AttuneServiceNotReady
    would fire for ever."""
    config = yaml.safe_load((RULES / "prometheus.yml").read_text())
    (gateway,) = [job for job in config["scrape_configs"] if job["job_name"] == "attune-gateway"]
    assert gateway["authorization"]["type"] == "Bearer"
    assert gateway["authorization"]["credentials_file"]


def test_promtool_rule_tests_pass_for_dead_letters_lag_outbox_and_readiness():
    tested = run("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    covered = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert {"AttuneDeadLettersArriving", "AttuneConsumerFallingBehind"} <= covered


def test_every_metric_a_rule_uses_is_exported_and_every_alert_has_a_runbook_line():
    exported = {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())["groups"][0]["rules"]
    readme = (RULES.parent / "README.md").read_text()
    anchors = set(re.findall(r'<a id="([a-z-]+)"></a>', readme))
    for rule in rules:
        used = set(re.findall(r"\battune_[a-z_]+", rule["expr"]))
        assert used and used <= exported, (rule["alert"], used - exported)
        anchor = rule["annotations"]["runbook"].split("#")[1]
        assert anchor in anchors, rule["alert"]
