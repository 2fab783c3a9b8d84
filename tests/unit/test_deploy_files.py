"""Checks on the deployment files: Dockerfile, docker-compose.yml, deploy/k8s/.

No container runtime is needed: the compose file is validated by
`docker-compose config -q` (Debian's docker-compose package; the test skips when
the binary is missing), everything else is parsed with PyYAML.
"""
from __future__ import annotations

import ipaddress
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
K8S_EXAMPLES = K8S_DIR / "examples"
SECRET_EXAMPLE = K8S_EXAMPLES / "secret.example.yaml"

RADAR_SERVICES = ("worker", "scheduler", "notifier", "api")
REQUIRED_SERVICES = ("kafka", "postgres", "migrate", *RADAR_SERVICES)
REQUIRED_ENV = ("RADAR_KAFKA_BOOTSTRAP", "RADAR_DATABASE_URL")
# Each long-running role's probe port: (the setting that opens it, its number). The API's comes
# from RADAR_API_PORT in the ConfigMap; the others are set in each workload's own env.
PROBE_PORTS = {
    "api": ("RADAR_API_PORT", 8080),
    "worker": ("RADAR_WORKER_METRICS_PORT", 9100),
    "notifier": ("RADAR_NOTIFIER_METRICS_PORT", 9101),
    "scheduler": ("RADAR_SCHEDULER_PORT", 9102),
}
POD_KINDS = ("Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob")


def _yaml():
    return pytest.importorskip("yaml", reason="PyYAML is not installed")


def _k8s_files() -> list[Path]:
    """What `kubectl apply -f deploy/k8s/` applies: the top level only (it is not recursive)."""
    return sorted([*K8S_DIR.glob("*.yaml"), *K8S_DIR.glob("*.yml")])


def _k8s_example_files() -> list[Path]:
    return sorted([*K8S_EXAMPLES.glob("*.yaml"), *K8S_EXAMPLES.glob("*.yml")])


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
    """One shared environment (x-radar-env anchor); only `migrate` differs, in RADAR_MIGRATE."""
    services = _compose()["services"]
    env = dict(services[name]["environment"])
    shared = dict(services["worker"]["environment"])
    if name == "migrate":
        env.pop("RADAR_MIGRATE", None)
        shared.pop("RADAR_MIGRATE", None)
    assert env == shared, f"service {name!r} should share the worker's environment (x-radar-env anchor)"


def test_compose_only_migrate_migrates():
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["radar", "db", "upgrade"]
    assert services["migrate"]["environment"].get("RADAR_MIGRATE") == "auto"
    for name in RADAR_SERVICES:
        assert services[name]["environment"].get("RADAR_MIGRATE") == "wait", name


def _published_ip(spec) -> str | None:
    """The host address a compose port is published on; None means every interface."""
    if isinstance(spec, dict):  # long syntax
        if spec.get("published") in (None, ""):
            return "unpublished"
        return spec.get("host_ip") or None
    text = str(spec).split("/", 1)[0]
    if text.startswith("["):  # [::1]:8080:8080
        return text[1:].split("]", 1)[0]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None  # "8080" and "8080:8080" publish on every interface


@pytest.mark.parametrize(
    "spec, loopback",
    [("8080", False), ("8080:8080", False), ("0.0.0.0:8080:8080", False), ("127.0.0.1:8080:8080", True),
     ("127.0.0.1::8080/tcp", True), ("[::1]:8080:8080", True), (8080, False),
     ({"target": 8080, "published": 8080}, False), ({"target": 8080, "published": 8080, "host_ip": "127.0.0.1"}, True)],
    ids=str,
)
def test_published_ip_parser(spec, loopback):
    assert _is_loopback(_published_ip(spec)) is loopback


def _is_loopback(ip: str | None) -> bool:
    if ip == "unpublished":
        return True
    try:
        return ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def test_compose_publishes_nothing_beyond_loopback():
    services = _compose()["services"]
    for name, service in services.items():
        assert service.get("network_mode") != "host", f"{name}: host networking publishes every port"
        for spec in service.get("ports") or []:
            assert _is_loopback(_published_ip(spec)), (
                f"{name}: port {spec!r} is published on a non-loopback address; use 127.0.0.1:HOST:CONTAINER"
            )
    assert [str(p) for p in services["api"]["ports"]] == ["127.0.0.1:8080:8080"]


@pytest.mark.parametrize("name", RADAR_SERVICES)
def test_compose_healthchecks_use_readyz(name):
    service = _compose()["services"][name]
    setting, port = PROBE_PORTS[name]
    assert str(service["environment"][setting]) == str(port), f"{name}: {setting} must be {port}"
    test = service["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else str(test)
    assert f"127.0.0.1:{port}/readyz" in command, f"{name}: healthcheck should GET /readyz on {port}: {command}"
    assert "/health'" not in command and "/health\"" not in command
    if "curl" in command or "wget" in command:
        dockerfile = DOCKERFILE.read_text(encoding="utf-8")
        assert re.search(r"apt-get install[^\n]*\b(curl|wget)\b", dockerfile), (
            f"{name}: the healthcheck uses curl/wget, which the image does not install"
        )


def test_compose_metrics_token_comes_from_the_environment():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert re.search(r"^\s*RADAR_METRICS_TOKEN:\s*\$\{RADAR_METRICS_TOKEN:-[^}]+\}\s*$", text, re.MULTILINE), (
        "RADAR_METRICS_TOKEN should be ${RADAR_METRICS_TOKEN:-<local default>}"
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


@pytest.mark.parametrize(
    "path", [*_k8s_files(), *_k8s_example_files()], ids=lambda p: str(p.relative_to(K8S_DIR))
)
def test_k8s_manifest_parses_and_is_named(path):
    yaml = _yaml()
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs, f"{path.name} has no documents"
    for doc in docs:
        assert isinstance(doc, dict), f"{path.name}: document is not a mapping"
        assert doc.get("apiVersion"), f"{path.name}: missing apiVersion"
        assert doc.get("kind"), f"{path.name}: missing kind"
        assert (doc.get("metadata") or {}).get("name"), f"{path.name}: missing metadata.name"


def _load_objects(paths) -> dict[tuple[str, str], dict]:
    yaml = _yaml()
    objects = {}
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind"):
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def _k8s_objects() -> dict[tuple[str, str], dict]:
    """The objects `kubectl apply -f deploy/k8s/` creates."""
    return _load_objects(_k8s_files())


def _secret_example() -> dict:
    secrets = [doc for (kind, _), doc in _load_objects([SECRET_EXAMPLE]).items() if kind == "Secret"]
    assert len(secrets) == 1, f"{SECRET_EXAMPLE} should hold exactly one Secret"
    return secrets[0]


def _pod_spec(doc: dict) -> dict:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def _pod_objects() -> list[tuple[str, str, dict]]:
    return [(kind, name, doc) for (kind, name), doc in _k8s_objects().items() if kind in POD_KINDS]


def _workloads() -> dict[str, tuple[dict, dict, dict]]:
    """role -> (the workload, its pod template, its radar container) for the long-running roles."""
    found = {}
    for kind, name, doc in _pod_objects():
        if kind == "Job":
            continue
        container = _pod_spec(doc)["containers"][0]
        role = container["command"][-1]
        found[role] = (doc, doc["spec"]["template"], container)
    return found


def _env(container: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def _configmap() -> dict[str, str]:
    return _k8s_objects()[("ConfigMap", "radar-config")]["data"]


def test_k8s_workloads_run_the_radar_commands():
    objects = _k8s_objects()
    kinds = {kind for kind, _ in objects}
    assert {"Namespace", "ConfigMap", "Deployment", "StatefulSet", "Job", "Service", "NetworkPolicy"} <= kinds

    secret_name = _secret_example()["metadata"]["name"]
    commands = {}
    for (kind, name), doc in objects.items():
        if kind in ("Deployment", "StatefulSet", "Job"):
            container = doc["spec"]["template"]["spec"]["containers"][0]
            commands[tuple(container["command"])] = (kind, name, doc)
            refs = container.get("envFrom", [])
            sources = {next(iter(ref.values()))["name"] for ref in refs}
            assert sources, f"{kind}/{name} takes no envFrom"
            secrets = {ref["secretRef"]["name"] for ref in refs if "secretRef" in ref}
            configs = {ref["configMapRef"]["name"] for ref in refs if "configMapRef" in ref}
            assert secrets == {secret_name}, f"{kind}/{name} should take envFrom secretRef {secret_name}"
            assert configs == {"radar-config"}, f"{kind}/{name} should take envFrom configMapRef radar-config"
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


def test_k8s_env_covers_core_settings():
    """ConfigMap plus the Secret the operator creates (its shape: examples/secret.example.yaml)."""
    names: set[str] = set(_configmap())
    secret = _secret_example()
    names |= set(secret.get("stringData") or {}) | set(secret.get("data") or {})
    missing = [var for var in REQUIRED_ENV if var not in names]
    assert not missing, f"ConfigMap/Secret lack {missing}"


def test_k8s_directory_apply_creates_no_secret():
    """`kubectl apply -f deploy/k8s/` must never (over)write the real Secret with placeholders."""
    secrets = [name for (kind, name) in _k8s_objects() if kind == "Secret"]
    assert not secrets, f"top-level deploy/k8s/*.yaml define Secrets {secrets}: move them to examples/"


def test_k8s_secret_example_covers_the_credentials():
    secret = _secret_example()
    data = secret.get("stringData") or {}
    assert {"RADAR_DATABASE_URL", "RADAR_METRICS_TOKEN"} <= set(data)
    text = SECRET_EXAMPLE.read_text(encoding="utf-8")
    for commented in ("RADAR_KAFKA_SASL_USERNAME", "RADAR_KAFKA_SASL_PASSWORD", "RADAR_OIDC_ISSUER",
                      "RADAR_OIDC_AUDIENCE", "RADAR_OIDC_JWKS_URL"):
        assert re.search(rf"^\s*#\s*{commented}:", text, re.MULTILINE), f"{commented} should be shown, commented out"
    assert "create secret generic" in text, "the example should say how to create the real Secret"
    assert secret["metadata"]["namespace"] == "talent-radar"


def test_k8s_configmap_shows_kafka_security():
    text = (K8S_DIR / "01-configmap.yaml").read_text(encoding="utf-8")
    for name in ("RADAR_KAFKA_SECURITY_PROTOCOL", "RADAR_KAFKA_SASL_MECHANISM", "RADAR_KAFKA_SSL_CAFILE"):
        assert re.search(rf"^\s*#\s*{name}:", text, re.MULTILINE), f"ConfigMap should show {name}, commented out"
    assert "volumeMounts" in text, "say how the CA file gets into the container"


def test_deploy_files_name_only_real_settings():
    """Every RADAR_* variable the deploy files set is one services/config.py reads (no typos)."""
    config = (ROOT / "services" / "config.py").read_text(encoding="utf-8")
    known = set(re.findall(r'"(RADAR_[A-Z0-9_]+)"', config))
    files = [*_k8s_files(), *_k8s_example_files(), COMPOSE_FILE, DOCKERFILE]
    for path in files:
        named = set(re.findall(r"\b(RADAR_[A-Z0-9_]*[A-Z0-9])\b", path.read_text(encoding="utf-8")))
        unknown = sorted(n for n in named - known if not n.endswith("_"))  # "RADAR_SMTP_*" style mentions
        assert not unknown, f"{path.relative_to(ROOT)} names settings services/config.py does not read: {unknown}"


def test_k8s_migrations_only_in_the_job():
    assert _configmap().get("RADAR_MIGRATE") == "wait", "services must wait for the migration Job"
    jobs = [(name, doc) for kind, name, doc in _pod_objects() if kind == "Job"]
    assert len(jobs) == 1
    name, job = jobs[0]
    container = _pod_spec(job)["containers"][0]
    assert container["command"] == ["radar", "db", "upgrade"], name
    # env wins over envFrom: the Job must not inherit the ConfigMap's "wait"
    assert _env(container).get("RADAR_MIGRATE") == "auto", f"Job/{name} should set RADAR_MIGRATE=auto"
    for role, (_, _, container) in _workloads().items():
        assert _env(container).get("RADAR_MIGRATE", "wait") == "wait", f"{role} must not migrate itself"


def _port_number(container: dict, port) -> int:
    if isinstance(port, int):
        declared = {p["containerPort"] for p in container.get("ports") or []}
        assert port in declared, f"{container['name']}: probe port {port} is not a declared containerPort"
        return port
    by_name = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    assert port in by_name, f"{container['name']}: probe port {port!r} is not a declared containerPort name"
    return by_name[port]


def test_k8s_every_long_running_workload_is_probed():
    workloads = _workloads()
    assert set(workloads) == set(RADAR_SERVICES)
    for role, (_, _, container) in workloads.items():
        setting, expected = PROBE_PORTS[role]
        live, ready = container.get("livenessProbe"), container.get("readinessProbe")
        assert live and ready, f"{role}: needs a livenessProbe and a readinessProbe"
        # a Kafka or database outage must never restart a pod: liveness only on /livez
        assert live["httpGet"]["path"] == "/livez", f"{role}: liveness must use /livez"
        assert ready["httpGet"]["path"] == "/readyz", f"{role}: readiness must use /readyz"
        ports = {_port_number(container, probe["httpGet"]["port"]) for probe in (live, ready)}
        assert ports == {expected}, f"{role}: probes should use port {expected}, not {ports}"
        port_names = {p.get("name") for p in container["ports"] if p["containerPort"] == expected}
        assert port_names & {"http", "probes", "metrics"}, f"{role}: name port {expected} http/probes/metrics"
        value = _configmap().get(setting) if role == "api" else _env(container).get(setting)
        assert str(value) == str(expected), f"{role}: {setting} should be {expected}, not {value!r}"
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.get(kind)
            if probe:
                assert probe["httpGet"]["path"] in ("/livez", "/readyz"), f"{role}: {kind} on /health"
                assert probe.get("timeoutSeconds", 1) < probe.get("periodSeconds", 10), f"{role}: {kind}"
                assert probe.get("failureThreshold", 3) >= 3, f"{role}: {kind} gives up too soon"
        # With RADAR_MIGRATE=wait the port opens only once the migration Job is done: liveness
        # must not run (and restart the pod) before then.
        startup = container.get("startupProbe")
        budget = (startup["periodSeconds"] * startup["failureThreshold"] if startup
                  else live.get("initialDelaySeconds", 0))
        assert budget >= 120, f"{role}: give it a startupProbe of >= 120 s (waits for the migration Job)"
        if startup:
            assert startup["httpGet"]["path"] == "/livez", f"{role}: startupProbe should use /livez"
    # joining the consumer group takes up to ~15 s
    worker = workloads["worker"][2]
    assert worker.get("startupProbe") or worker["readinessProbe"].get("initialDelaySeconds", 0) >= 15


@pytest.mark.parametrize("role", ("worker", "notifier", "scheduler"))
def test_k8s_prometheus_annotations(role):
    _, template, container = _workloads()[role]
    annotations = template["metadata"].get("annotations") or {}
    _, port = PROBE_PORTS[role]
    assert annotations.get("prometheus.io/scrape") == "true", role
    assert annotations.get("prometheus.io/port") == str(port), role
    assert annotations.get("prometheus.io/path", "/metrics") == "/metrics", role
    assert port in {p["containerPort"] for p in container["ports"]}


@pytest.mark.parametrize("kind, name, doc", [pytest.param(*obj, id=f"{obj[0]}/{obj[1]}") for obj in _pod_objects()])
def test_k8s_pods_are_locked_down(kind, name, doc):
    spec = _pod_spec(doc)
    pod = spec.get("securityContext") or {}
    assert (pod.get("seccompProfile") or {}).get("type") == "RuntimeDefault", f"{kind}/{name}: seccompProfile"
    assert pod.get("runAsNonRoot") is True, f"{kind}/{name}: runAsNonRoot"
    assert pod.get("runAsUser") not in (None, 0), f"{kind}/{name}: runAsUser"
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), f"{kind}/{name}"
    for container in [*spec["containers"], *(spec.get("initContainers") or [])]:
        ctx = container.get("securityContext") or {}
        where = f"{kind}/{name}/{container['name']}"
        assert ctx.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation"
        assert "ALL" in ((ctx.get("capabilities") or {}).get("drop") or []), f"{where}: drop ALL capabilities"
        assert not ctx.get("privileged"), where
        assert not any("hostPort" in p for p in container.get("ports") or []), f"{where}: hostPort"


def _selects(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def _allowed_ports(labels: dict) -> set[int]:
    """Ports the namespace's NetworkPolicies open to pods with these labels (any peer)."""
    ports: set[int] = set()
    for (kind, name), doc in _k8s_objects().items():
        if kind != "NetworkPolicy" or not _selects(doc["spec"]["podSelector"], labels):
            continue
        for rule in doc["spec"].get("ingress") or []:
            assert rule.get("ports"), f"NetworkPolicy/{name}: a rule without ports opens every port"
            assert rule.get("from"), f"NetworkPolicy/{name}: a rule without `from` admits everyone"
            for peer in rule["from"]:
                assert "ipBlock" not in peer, f"NetworkPolicy/{name}: select peers by label, not address"
                selectors = [peer.get("namespaceSelector"), peer.get("podSelector")]
                assert any(s and (s.get("matchLabels") or s.get("matchExpressions")) for s in selectors), (
                    f"NetworkPolicy/{name}: peer {peer} must be selected by a label"
                )
            ports |= {p["port"] for p in rule["ports"]}
    return ports


def test_k8s_api_is_not_open():
    objects = _k8s_objects()
    for (kind, name), doc in objects.items():
        if kind == "Service":
            assert doc["spec"].get("type", "ClusterIP") == "ClusterIP", f"Service/{name} must stay ClusterIP"
            assert not any("nodePort" in p for p in doc["spec"].get("ports") or []), name
    deny = [doc for (kind, _), doc in objects.items() if kind == "NetworkPolicy"
            and doc["spec"]["podSelector"] == {} and "Ingress" in doc["spec"].get("policyTypes", [])
            and not doc["spec"].get("ingress")]
    assert deny, "a default-deny ingress NetworkPolicy should cover every pod in the namespace"
    assert (K8S_DIR / "30-networkpolicy.yaml").is_file()

    for role, (_, template, container) in _workloads().items():
        labels = template["metadata"]["labels"]
        _, port = PROBE_PORTS[role]
        allowed = _allowed_ports(labels)
        assert port in allowed, f"{role}: no NetworkPolicy lets Prometheus/ingress reach port {port}"
        expected = {8080} if role == "api" else {9100, 9101, 9102}
        assert allowed <= expected, f"{role}: NetworkPolicy opens ports {sorted(allowed - expected)}"


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
