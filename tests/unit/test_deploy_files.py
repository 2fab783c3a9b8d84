"""Checks on the deployment files: Dockerfile, docker-compose.yml, deploy/k8s/.

No container runtime is needed: the compose file is validated by
`docker-compose config -q` (Debian's docker-compose package; the test skips when
the binary is missing), everything else is parsed with PyYAML.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"

RADAR_SERVICES = ("worker", "scheduler", "notifier", "api")
REQUIRED_SERVICES = ("kafka", "postgres", "migrate", *RADAR_SERVICES)
REQUIRED_ENV = ("RADAR_KAFKA_BOOTSTRAP", "RADAR_DATABASE_URL")


def _yaml():
    return pytest.importorskip("yaml", reason="PyYAML is not installed")


def _k8s_files() -> list[Path]:
    return sorted([*K8S_DIR.glob("*.yaml"), *K8S_DIR.glob("*.yml")])


def _compose() -> dict:
    data = _yaml().safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def _env_names(service: dict) -> set[str]:
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return set(env)
    # list form: ["NAME=value", "NAME"]
    return {str(item).split("=", 1)[0] for item in env}


# --- docker-compose ---------------------------------------------------------


def test_compose_config_is_valid():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip(
            "docker-compose binary not found (apt-get install docker-compose); "
            "CI installs it and runs this check"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    proc = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"`docker-compose config -q` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )


def test_compose_has_all_services():
    services = _compose().get("services") or {}
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks services: {missing}"


@pytest.mark.parametrize("name", ("migrate", *RADAR_SERVICES))
def test_compose_radar_services_get_core_env(name):
    service = _compose()["services"][name]
    missing = [var for var in REQUIRED_ENV if var not in _env_names(service)]
    assert not missing, f"service {name!r} lacks environment {missing}"


@pytest.mark.parametrize("name", ("migrate", *RADAR_SERVICES))
def test_compose_radar_services_use_the_same_env(name):
    services = _compose()["services"]
    assert services[name]["environment"] == services["worker"]["environment"], (
        f"service {name!r} should share the worker's environment (x-radar-env anchor)"
    )


def test_compose_start_order():
    services = _compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    for infra in ("kafka", "postgres"):
        assert "healthcheck" in services[infra], f"{infra} needs a healthcheck"
    assert services["migrate"]["command"] == ["radar", "db", "upgrade"]
    for name in RADAR_SERVICES:
        deps = services[name].get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on must use conditions"
        assert deps.get("kafka", {}).get("condition") == "service_healthy", name
        assert deps.get("postgres", {}).get("condition") == "service_healthy", name
        assert deps.get("migrate", {}).get("condition") == "service_completed_successfully", name
        assert services[name]["command"] == ["radar", name]
    ports = [str(p) for p in services["api"].get("ports") or []]
    assert any(p.endswith(":8080") or p == "8080" for p in ports), ports


def test_compose_kafka_is_single_node_kraft():
    env = _compose()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    for var in (
        "KAFKA_NODE_ID",
        "KAFKA_LISTENERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
    ):
        assert var in env, var
    assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 1
    assert int(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]) == 1


# --- Kubernetes -------------------------------------------------------------


def test_k8s_dir_has_manifests():
    assert _k8s_files(), f"no manifests in {K8S_DIR}"


@pytest.mark.parametrize("path", _k8s_files(), ids=lambda p: p.name)
def test_k8s_manifest_parses_and_is_named(path):
    yaml = _yaml()
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs, f"{path.name} has no documents"
    for doc in docs:
        assert isinstance(doc, dict), f"{path.name}: document is not a mapping"
        assert doc.get("apiVersion"), f"{path.name}: missing apiVersion"
        assert doc.get("kind"), f"{path.name}: missing kind"
        assert (doc.get("metadata") or {}).get("name"), f"{path.name}: missing metadata.name"


def _k8s_objects() -> dict[tuple[str, str], dict]:
    yaml = _yaml()
    objects = {}
    for path in _k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind"):
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def test_k8s_workloads_run_the_radar_commands():
    objects = _k8s_objects()
    kinds = {kind for kind, _ in objects}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Job", "Service"} <= kinds

    commands = {}
    for (kind, name), doc in objects.items():
        if kind in ("Deployment", "StatefulSet", "Job"):
            container = doc["spec"]["template"]["spec"]["containers"][0]
            commands[tuple(container["command"])] = (kind, name, doc)
            sources = {
                next(iter(ref.values()))["name"] for ref in container.get("envFrom", [])
            }
            assert sources, f"{kind}/{name} takes no envFrom"
    assert ("radar", "db", "upgrade") in commands
    assert commands[("radar", "db", "upgrade")][0] == "Job"
    for role in RADAR_SERVICES:
        assert ("radar", role) in commands, f"no Deployment runs `radar {role}`"
        # the worker keeps its name across restarts: Kafka static membership (RADAR_WORKER_ID)
        assert commands[("radar", role)][0] == ("StatefulSet" if role == "worker" else "Deployment")
    worker = commands[("radar", "worker")][2]["spec"]["template"]["spec"]["containers"][0]
    worker_id = next(e for e in worker["env"] if e["name"] == "RADAR_WORKER_ID")
    assert worker_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert commands[("radar", "worker")][2]["spec"]["replicas"] == 2
    assert commands[("radar", "scheduler")][2]["spec"]["replicas"] == 1

    api = commands[("radar", "api")][2]["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"]["path"] == "/health", probe


def test_k8s_env_covers_core_settings():
    objects = _k8s_objects()
    names: set[str] = set()
    for (kind, _), doc in objects.items():
        if kind == "ConfigMap":
            names |= set(doc.get("data") or {})
        elif kind == "Secret":
            names |= set(doc.get("stringData") or {}) | set(doc.get("data") or {})
    missing = [var for var in REQUIRED_ENV if var not in names]
    assert not missing, f"ConfigMap/Secret lack {missing}"


# --- Dockerfile -------------------------------------------------------------


def test_dockerfile_basics():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM\s+python:3\.11-slim\b", text, re.M)
    assert re.search(r'^CMD\s+\["radar",\s*"worker"\]', text, re.M)
    assert re.search(r"^EXPOSE\s+8080\b", text, re.M)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0"), "must run as non-root"


def test_dockerfile_copies_every_package():
    """A new top-level package in pyproject.toml must be copied into the image too."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    copied: set[str] = set()
    for line in re.findall(r"^COPY\s+(.+)$", text, re.M):
        parts = [p for p in line.split() if not p.startswith("--")]
        copied |= {p.rstrip("/") for p in parts[:-1]}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    missing = sorted(packages - copied)
    assert not missing, f"Dockerfile does not COPY packages {missing}"
    assert "pyproject.toml" in copied
