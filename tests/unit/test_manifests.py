"""Kubernetes manifests are what the generator renders, and valid against the schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from deploy.k8s_manifests import SERVICES, manifests, render

MANIFESTS = Path(__file__).resolve().parent.parent.parent / "deploy" / "k8s" / "attune.yaml"
OBJECTS = list(yaml.safe_load_all(MANIFESTS.read_text()))


def test_the_committed_manifests_are_the_rendered_ones():
    assert MANIFESTS.read_text() == render()


@pytest.mark.parametrize(
    "obj", OBJECTS, ids=[f"{o['kind']}/{o['metadata']['name']}" for o in OBJECTS]
)
def test_every_object_is_valid_kubernetes(obj):
    kubernetes_validate.validate(obj, "1.33.0", strict=True)


def test_each_service_has_probes_limits_autoscaling_and_a_disruption_budget():
    kinds = {(o["kind"], o["metadata"]["name"]) for o in OBJECTS}
    for service in SERVICES:
        assert {("Deployment", service), ("HorizontalPodAutoscaler", service),
                ("PodDisruptionBudget", service), ("Service", service)} <= kinds  # fmt: skip
    for deployment in (o for o in OBJECTS if o["kind"] == "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["limits"]["memory"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]


def test_each_service_reaches_mongodb_as_its_own_user():
    objects = manifests()
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert "mongo-url" not in secret["stringData"]
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        service = obj["metadata"]["name"]
        env = obj["spec"]["template"]["spec"]["containers"][0]["env"]
        mongo = next(e for e in env if e["name"] == "ATTUNE_MONGO_URL")
        assert mongo["valueFrom"]["secretKeyRef"]["key"] == f"{service}-mongo-url"
        assert f"{service}-mongo-url" in secret["stringData"]
    users = next(o for o in objects if o["metadata"]["name"] == "attune-mongo-users")
    assert "readWrite" in users["data"]["init-users.js"]
