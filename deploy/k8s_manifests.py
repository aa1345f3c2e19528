"""Kubernetes manifests for Attune, rendered from one description per service.

`python -m deploy.k8s_manifests` writes deploy/k8s/attune.yaml (a test keeps it equal and
validates every object against the Kubernetes schemas). NATS and MongoDB come from their
own operators or charts; point ATTUNE_NATS_URL and the Mongo secrets at them. Each service
connects to MongoDB as its own user, with rights on its own database only: the users are
made by deploy/mongo/init-users.js (shipped here as a ConfigMap for the chart's init step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "attune"
MONGO_USERS = Path(__file__).parent / "mongo" / "init-users.js"
IMAGE = "ghcr.io/attune/attune:1.0.0"

SERVICES: dict[str, dict[str, Any]] = {
    "gateway": {"port": 8000, "replicas": 2, "max": 10, "cpu": "250m", "memory": "256Mi"},
    "checkin": {"port": 8101, "replicas": 2, "max": 10, "cpu": "250m", "memory": "256Mi"},
    "insights": {"port": 8103, "replicas": 2, "max": 8, "cpu": "250m", "memory": "384Mi"},
    "scheduler": {"port": 8102, "replicas": 2, "max": 4, "cpu": "100m", "memory": "192Mi"},
}


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": "attune"}, **extra}  # fmt: skip


def _secret_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "attune-secrets", "key": key}}}


def _deployment(service: str, spec: dict[str, Any]) -> dict[str, Any]:
    port = spec["port"]
    env: list[dict[str, Any]] = [
        {"name": "ATTUNE_PORT", "value": str(port)},
        {"name": "ATTUNE_HOST", "value": "0.0.0.0"},
        {"name": "ATTUNE_NATS_USER", "value": service},
        _secret_env("ATTUNE_NATS_PASSWORD", f"{service}-nats-password"),
        _secret_env("ATTUNE_MONGO_URL", f"{service}-mongo-url"),
    ]
    if service in ("checkin", "insights", "scheduler"):  # each seals notes (flags, date plans)
        env.append(_secret_env("ATTUNE_MASTER_KEYS", "master-keys"))
    if service == "gateway":
        env.append(_secret_env("ATTUNE_OPS_TOKEN", "ops-token"))
        env.append(_secret_env("ATTUNE_WEBHOOK_KEY", "webhook-key"))
    probe = {"httpGet": {"path": "/readyz", "port": port}, "periodSeconds": 10}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(service),
        "spec": {
            "replicas": spec["replicas"],
            "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": service,
                                        "app.kubernetes.io/part-of": "attune"}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                        "fsGroup": 10001},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": service, "image": IMAGE,
                        "command": ["python", "-m", f"services.{service}"],
                        "ports": [{"name": "http", "containerPort": port}],
                        "envFrom": [{"configMapRef": {"name": "attune-config"}}],
                        "env": env,
                        "readinessProbe": probe,
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": port},
                                          "periodSeconds": 10, "failureThreshold": 6},
                        "resources": {
                            "requests": {"cpu": spec["cpu"], "memory": spec["memory"]},
                            "limits": {"memory": spec["memory"]},
                        },
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }  # fmt: skip


def _extras(service: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    selector = {"app.kubernetes.io/name": service}
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    utilization = {"type": "Utilization", "averageUtilization": 70}
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": utilization}}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(service),
         "spec": {"selector": selector,
                  "ports": [{"name": "http", "port": 80 if service == "gateway" else spec["port"],
                             "targetPort": spec["port"]}]}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
         "metadata": _meta(service),
         "spec": {"scaleTargetRef": target, "minReplicas": spec["replicas"],
                  "maxReplicas": spec["max"], "metrics": [cpu]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(service),
         "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}}},
    ]  # fmt: skip


def manifests() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("attune-config"),
         "data": {"ATTUNE_ENVIRONMENT": "production", "ATTUNE_NAMESPACE": "attune",
                  "ATTUNE_NATS_URL": "nats://nats.nats.svc.cluster.local:4222",
                  "ATTUNE_STREAM_REPLICAS": "3", "ATTUNE_LOG_JSON": "true"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": _meta("attune-secrets"),
         "type": "Opaque",
         # Placeholders: create the real Secret from your secret store, never from git.
         # Each <service>-mongo-url names that service's own user and database, e.g.
         # mongodb://checkin:<password>@mongo:27017/attune_checkin?authSource=attune_checkin
         "stringData": {"master-keys": "REPLACE", "ops-token": "REPLACE",
                        "webhook-key": "REPLACE",
                        **{f"{s}-nats-password": "REPLACE" for s in SERVICES},
                        **{f"{s}-mongo-url": "REPLACE" for s in SERVICES}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("attune-mongo-users"),
         "data": {"init-users.js": MONGO_USERS.read_text()}},
    ]  # fmt: skip
    for service, spec in SERVICES.items():
        objects.append(_deployment(service, spec))
        objects.extend(_extras(service, spec))
    return objects


def render() -> str:
    header = "# Generated by `python -m deploy.k8s_manifests`; edit deploy/k8s_manifests.py.\n"
    return header + yaml.safe_dump_all(manifests(), sort_keys=False)


if __name__ == "__main__":
    (Path(__file__).parent / "k8s" / "attune.yaml").write_text(render())
