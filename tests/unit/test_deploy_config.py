"""The deployment files stay in step with the code that defines them."""

from __future__ import annotations

from pathlib import Path

import pytest
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


COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_a_nats_cluster_a_replica_set_and_two_replicas_of_the_workers():
    services = COMPOSE["services"]
    assert {"nats1", "nats2", "nats3", "mongo", "checkin", "scheduler", "insights",
            "gateway"} <= set(services)  # fmt: skip
    assert "--replSet" in services["mongo"]["command"]
    for worker in ("checkin", "insights", "scheduler"):
        assert services[worker]["deploy"]["replicas"] == 2
    for name, service in services.items():
        assert service.get("healthcheck"), name
        assert service.get("restart") == "unless-stopped", name
    assert services["gateway"]["ports"] == ["8000:8000"]
    assert services["checkin"]["environment"]["ATTUNE_STREAM_REPLICAS"] == "3"
    assert set(COMPOSE["volumes"]) == {"nats1-data", "nats2-data", "nats3-data", "mongo-data"}


def test_docker_compose_accepts_the_file_where_its_client_exists():
    import os
    import shutil
    import subprocess

    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client here; the YAML checks above stand in")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("no docker compose client here; the YAML checks above stand in")
    services = ("checkin", "scheduler", "insights", "gateway")
    env = {**os.environ, "ATTUNE_MASTER_KEYS": "x", "ATTUNE_OPS_TOKEN": "x",
           **{f"{s.upper()}_NATS_PASSWORD": "x" for s in services}}  # fmt: skip
    result = subprocess.run(
        [docker, "compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr


SERVICE_NAMES = ("checkin", "scheduler", "insights", "gateway")


def test_mongodb_runs_with_authentication_and_a_user_per_service():
    mongo = COMPOSE["services"]["mongo"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD:?")
    assert "--keyFile" in mongo["command"]
    assert (
        "./deploy/mongo/init-users.js:/docker-entrypoint-initdb.d/init-users.js:ro"
        in (mongo["volumes"])
    )
    for service in SERVICE_NAMES:
        url = COMPOSE["services"][service]["environment"]["ATTUNE_MONGO_URL"]
        password = f"${{{service.upper()}_MONGO_PASSWORD:?"
        assert url.startswith(f"mongodb://{service}:{password}")
        assert f"@mongo:27017/attune_{service}?" in url
        assert f"authSource=attune_{service}" in url
        assert mongo["environment"][f"{service.upper()}_MONGO_PASSWORD"].startswith(password)


def test_each_mongodb_user_may_use_only_its_own_database():
    script = (ROOT / "deploy" / "mongo" / "init-users.js").read_text()
    assert '["checkin", "scheduler", "insights", "gateway"]' in script
    assert 'roles: [{ role: "readWrite", db: database }]' in script
    assert "const database = `${namespace}_${service}`;" in script
    assert "AnyDatabase" not in script and 'role: "root"' not in script


def test_each_service_uses_only_its_own_consumers_and_inbox():
    for service in SERVICE_NAMES:
        rules = permissions("attune", service)
        publish, subscribe = rules["publish"]["allow"], rules["subscribe"]["allow"]
        assert "$JS.API.CONSUMER.>" not in publish and "_INBOX.>" not in publish
        assert subscribe[0] == f"_INBOX.attune.{service}.>"
        assert "_INBOX.>" not in subscribe
        assert rules["allow_responses"] is True
        # Dead-letter queues are read headers-only by the gateway alone, with a short-lived
        # consumer of any name; every other consumer is one of the service's own durables.
        dead_letter_reads = [s for s in publish if s.startswith("$JS.API.CONSUMER.MSG.NEXT.")
                             and "_DLQ_" in s]  # fmt: skip
        assert bool(dead_letter_reads) == (service == "gateway")
        consumers = [s for s in publish if s.startswith("$JS.API.CONSUMER.MSG.NEXT.")
                     and "_DLQ_" not in s]  # fmt: skip
        assert consumers and all(s.split(".")[-1].startswith(f"{service}-") for s in consumers)
