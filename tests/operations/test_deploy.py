"""The deployment files say what docs/operations.md promises. Docker and a cluster are not available
here: the manifests are parsed and checked field by field, and the Dockerfile read line by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from server.settings import Settings

ROOT = Path(__file__).parents[2]
K8S = ROOT / "deploy" / "k8s"


def _manifests() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            # The server's objects by kind; a second object of a kind (the worker's Deployment) by name.
            kind = document["kind"]
            found[kind if kind not in found else f"{kind}/{document['metadata']['name']}"] = document
    return found


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    return _manifests()


def test_every_manifest_parses_and_kustomize_lists_them_all(manifests: dict[str, dict[str, Any]]) -> None:
    listed = set(manifests["Kustomization"]["resources"])

    assert listed == {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    kinds = ["ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    assert set(manifests) >= {*kinds, "Job"}


def test_the_deployment_probes_limits_and_runs_unprivileged(manifests: dict[str, dict[str, Any]]) -> None:
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert [container["command"], container["args"][:3]] == [["outlay"], ["serve", "--transport", "http"]]
    sources = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert sources == {manifests["ConfigMap"]["metadata"]["name"], manifests["Secret"]["metadata"]["name"]}
    grace = int(manifests["ConfigMap"]["data"]["OUTLAY_SHUTDOWN_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > grace  # the drain ends before the kubelet's SIGKILL


def test_hpa_pdb_and_service_point_at_the_deployment(manifests: dict[str, dict[str, Any]]) -> None:
    deployment = manifests["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    hpa, pdb, service = (
        manifests[k]["spec"] for k in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Service")
    )

    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["minReplicas"] > pdb["minAvailable"] >= 1  # a drain never takes the last replicas
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert service["selector"].items() <= labels.items()
    assert service["ports"][0]["targetPort"] == "http"


def test_the_migration_job_upgrades_the_schema_with_the_same_settings(
    manifests: dict[str, dict[str, Any]],
) -> None:
    job = manifests["Job"]["spec"]["template"]["spec"]
    [container] = job["containers"]

    assert [*container["command"], *container["args"]] == ["outlay", "db", "upgrade"]
    assert job["restartPolicy"] == "Never"
    assert job["securityContext"]["runAsNonRoot"] is True
    assert (
        container["envFrom"]
        == manifests["Deployment"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    )


def test_configured_variables_are_settings_and_the_shared_secrets_are_there(
    manifests: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = manifests["ConfigMap"]["data"] | manifests["Secret"]["stringData"]
    for name, value in variables.items():
        field = name.removeprefix("OUTLAY_").lower().split("__")[0]
        assert field in Settings.model_fields, name
        monkeypatch.setenv(name, value)

    settings = Settings()  # every value validates

    shared = {"OUTLAY_CURSOR_SECRET", "OUTLAY_REQUEST_STATE_KEYS", "OUTLAY_DATABASE_URL", "OUTLAY_REDIS_URL"}
    assert shared <= set(manifests["Secret"]["stringData"])
    assert settings.rate_limit.concurrency == 32
    assert settings.redis_url is not None


def test_the_dockerfile_is_slim_locked_unprivileged_and_health_checked() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    text = "\n".join(lines)

    assert [line for line in lines if line.startswith("FROM ")][-1] == "FROM python:3.11-slim"
    assert "uv sync --frozen --no-dev" in text
    assert [line for line in lines if line.startswith("USER ")] == ["USER 10001:10001"]
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert lines[-1] == 'CMD ["outlay", "serve", "--transport", "http", "--host", "0.0.0.0"]'
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


def test_the_worker_runs_from_the_same_image_and_settings(manifests: dict[str, dict[str, Any]]) -> None:
    server = manifests["Deployment"]["spec"]["template"]["spec"]
    worker = manifests["Deployment/outlay-worker"]["spec"]["template"]["spec"]
    [serving], [working] = server["containers"], worker["containers"]

    assert [working["command"], working["args"]] == [["outlay"], ["worker"]]
    assert working["image"] == serving["image"]  # one image, two roles
    assert working["envFrom"] == serving["envFrom"]
    assert manifests["ConfigMap"]["data"]["OUTLAY_JOBS__QUEUE"] == "postgresql"
    assert worker["securityContext"]["runAsNonRoot"] is True
    assert working["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"cpu", "memory"} <= set(working["resources"]["limits"])
    grace = int(manifests["ConfigMap"]["data"]["OUTLAY_SHUTDOWN_GRACE_SECONDS"])
    assert worker["terminationGracePeriodSeconds"] > grace
