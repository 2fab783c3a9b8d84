"""The Grafana dashboard and the Prometheus rules in deploy/ are well formed and name only metrics
that the processes expose: the API's /metrics (over a temporary SQLite database, no broker) and the
default registry of the worker's, notifier's and scheduler's metrics ports."""
from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest

from services.adapters.store.db import upgrade
from services.api.app import create_app
from services.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "talent-radar.dashboard.json"
RULES = ROOT / "deploy" / "prometheus" / "talent-radar.rules.yaml"
SCRAPE = ROOT / "deploy" / "prometheus" / "scrape.example.yaml"

PROCESS_MODULES = ("services.metrics", "services.notifier", "services.scheduler")  # their metrics, on REGISTRY
METRIC = re.compile(r"(?<![A-Za-z0-9_:])radar_[A-Za-z0-9_]*")
RECORDED = re.compile(r"(?<![A-Za-z0-9_:])radar:[A-Za-z0-9_:]*")
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')  # label values are not metric names
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _rules() -> dict:
    return yaml.safe_load(RULES.read_text())


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _all_rules():
    for group in _rules()["groups"]:
        yield from group["rules"]


def _panels(panels):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row keeps its panels inside


def _exprs() -> list[tuple[str, str]]:
    """(where, PromQL) for every rule and every dashboard query."""
    found = [(f"rules: {rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in _all_rules()]
    for panel in _panels(_dashboard()["panels"]):
        for target in panel.get("targets", []):
            found.append((f"dashboard: {panel['title']} ({target['refId']})", target["expr"]))
    for variable in _dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append((f"dashboard: ${variable['name']}", query if isinstance(query, str) else query["query"]))
    return found


def _names(expr: str, pattern: re.Pattern = METRIC) -> set[str]:
    return set(pattern.findall(STRINGS.sub('""', expr)))


def _exposed(text: str) -> set[str]:
    """Every metric name in a Prometheus text exposition: its samples, and its # HELP / # TYPE lines
    (a labelled metric with no children yet prints only those), with a histogram's or summary's
    _bucket/_sum/_count series."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            parts = line.split()
            names.add(parts[2])
            if parts[1] == "TYPE" and parts[3] in ("histogram", "summary"):
                names.update(parts[2] + suffix for suffix in HISTOGRAM_SUFFIXES)
        elif line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


@pytest.fixture(scope="module")
def exposed(tmp_path_factory) -> set[str]:
    for module in PROCESS_MODULES:
        importlib.import_module(module)
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboards') / 'radar.db'}"
    upgrade(url)
    # No broker at 127.0.0.1:1: the lag reading fails fast and says so (radar_consumer_lag_up 0).
    settings = Settings.from_env(database_url=url, kafka_bootstrap="127.0.0.1:1", metrics_token=None)
    response = TestClient(create_app(settings)).get("/metrics")
    assert response.status_code == 200, response.text
    api = _exposed(response.text)
    assert {"radar_outbox_backlog", "radar_worker_stalled", "radar_consumer_lag_up"} <= api
    return api | _exposed(generate_latest(REGISTRY).decode())


def _used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for where, expr in _exprs():
        for name in _names(expr):
            used.setdefault(name, []).append(where)
    return used


def test_every_metric_named_is_exposed(exposed):
    used = _used()
    assert len(used) >= 20
    missing = {name: where for name, where in used.items() if name not in exposed}
    assert not missing, f"named in deploy/ but exposed by no process: {missing}"


def test_rules_file_is_well_formed():
    rules = _rules()
    assert set(rules) == {"groups"} and rules["groups"]
    group_names, alert_names, records = set(), set(), set()
    for group in rules["groups"]:
        assert group["name"] not in group_names and group["rules"], group
        group_names.add(group["name"])
        for rule in group["rules"]:
            assert isinstance(rule.get("expr"), str) and rule["expr"].strip(), rule
            assert ("alert" in rule) != ("record" in rule), rule
            if "record" in rule:
                assert re.fullmatch(r"radar:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]
                assert rule["record"] not in records
                records.add(rule["record"])
                continue
            assert rule["alert"] not in alert_names and re.fullmatch(r"Radar[A-Za-z]+", rule["alert"])
            alert_names.add(rule["alert"])
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, rule
            assert DURATION.match(str(rule["for"])), rule
            assert rule["labels"]["severity"] in ("critical", "warning"), rule
            assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), rule
    assert len(alert_names) >= 8 and records


def test_runbooks_point_at_readme_sections():
    readme = (ROOT / "README.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", readme, flags=re.MULTILINE)}
    for rule in _all_rules():
        if "alert" in rule:
            url = rule["annotations"]["runbook_url"]
            assert url.startswith("README.md#") and url.split("#", 1)[1] in anchors, (rule["alert"], url)


def test_recorded_series_are_recorded_before_use():
    recorded = {rule["record"] for rule in _all_rules() if "record" in rule}
    for where, expr in _exprs():
        names = _names(expr, RECORDED)
        if where.startswith("dashboard"):
            assert not names, f"{where}: the dashboard must work without the rules loaded: {names}"
        assert names <= recorded, (where, names - recorded)


def test_dashboard_is_well_formed():
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"] and 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = list(_panels(dashboard["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    rows = [panel["title"] for panel in panels if panel["type"] == "row"]
    assert len(rows) >= 4
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["datasource"]["uid"] == "${datasource}", panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_scrape_example_names_every_process():
    config = yaml.safe_load(SCRAPE.read_text())
    assert config["rule_files"] == [RULES.name]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"radar-api", "radar-worker", "radar-notifier", "radar-scheduler"}
    assert jobs["radar-api"]["metrics_path"] == "/metrics"
    assert jobs["radar-api"]["authorization"]["type"] == "Bearer"
    text = SCRAPE.read_text()
    for variable in ("RADAR_METRICS_TOKEN", "RADAR_WORKER_METRICS_PORT", "RADAR_NOTIFIER_METRICS_PORT",
                     "RADAR_SCHEDULER_PORT", "RADAR_API_PORT"):
        assert variable in text
        assert variable.removeprefix("RADAR_").lower() in Settings.__dataclass_fields__, variable


# -- promtool, when installed (Debian: apt-get install prometheus): the files as Prometheus reads them --

promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")


def _promtool(*args: str, cwd: Path) -> None:
    result = subprocess.run(["promtool", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@promtool
def test_promtool_checks_rules_and_config(tmp_path):
    _promtool("check", "rules", str(RULES), cwd=tmp_path)
    token = tmp_path / "token"
    token.write_text("a-metrics-token\n")
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / SCRAPE.name).write_text(SCRAPE.read_text().replace(
        "/etc/prometheus/secrets/radar-metrics-token", str(token)))
    _promtool("check", "config", SCRAPE.name, cwd=tmp_path)


API = 'job="radar-api",instance="api:8080"'


def _alerts(alert: str) -> str:
    return f'ALERTS{{alertname="{alert}",alertstate="firing"}}'


def _fires(alert: str, at: str, **labels: str) -> dict:
    """A promql_expr_test: at `at` the alert fires, with its rule's labels and these."""
    rule = next(r for r in _all_rules() if r.get("alert") == alert)
    every = {"alertname": alert, "alertstate": "firing", **rule["labels"], **labels}
    rendered = ",".join(f'{key}="{value}"' for key, value in sorted(every.items()))
    return {"expr": _alerts(alert), "eval_time": at, "exp_samples": [{"labels": f"ALERTS{{{rendered}}}", "value": 1}]}


def _quiet(alert: str, at: str) -> dict:
    """A promql_expr_test: at `at` the alert does not fire (it may be pending)."""
    return {"expr": _alerts(alert), "eval_time": at, "exp_samples": []}


def _series(name: str, values: str, **labels: str) -> dict:
    rendered = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{rendered}}}", "values": values}


@promtool
def test_alerts_fire_when_they_should(tmp_path):
    """Series minute by minute, and which alerts fire when (promtool test rules)."""
    api = {"job": "radar-api", "instance": "api:8080"}
    api2 = {"job": "radar-api", "instance": "api-2:8080"}
    tests = [
        {"interval": "1m", "input_series": [  # lag growing on one topic, steady on another; the worker idle
            _series("radar_consumer_lag_up", "1x40", **api),
            _series("radar_consumer_lag_seconds", "0+60x40", topic="profile-events", **api),
            _series("radar_consumer_lag_seconds", "400x40", topic="interview-notes", **api),
            _series("radar_consumer_lag", "0+10x40", topic="profile-events", **api),
            _series("radar_worker_last_batch_age_seconds", "0+60x40", worker="w-0", **api),
            _series("radar_worker_stalled", "0x40", worker="w-0", **api),
        ], "promql_expr_test": [
            _quiet("RadarConsumerLagGrowing", "12m"),  # above 300 s since 6m, not yet for 10m
            _fires("RadarConsumerLagGrowing", "25m", topic="profile-events"),
            _quiet("RadarNothingCommitted", "14m"),
            _fires("RadarNothingCommitted", "25m"),
            _quiet("RadarNoWorkerAlive", "30m"),
            _quiet("RadarWorkerStalled", "30m"),
        ]},
        {"interval": "1m", "input_series": [  # a worker idle for long (and silent), but nothing waits
            _series("radar_consumer_lag_up", "1x40", **api),
            _series("radar_consumer_lag", "0x40", topic="profile-events", **api),
            _series("radar_worker_last_batch_age_seconds", "0+60x40", worker="w-0", **api),
            _series("radar_worker_stalled", "1x40", worker="w-0", **api),
        ], "promql_expr_test": [
            _quiet("RadarNothingCommitted", "30m"),
            _quiet("RadarNoWorkerAlive", "30m"),
            _fires("RadarWorkerStalled", "30m", worker="w-0"),
        ]},
        {"interval": "1m", "input_series": [  # input waits, no worker; a second API cannot read the lag
            _series("radar_consumer_lag_up", "1x40", **api),
            _series("radar_consumer_lag", "5x40", topic="profile-events", **api),
            _series("radar_consumer_lag_up", "0x40", **api2),
            _series("radar_consumer_lag_seconds", "0+600x40", topic="profile-events", **api2),  # stale
        ], "promql_expr_test": [
            _fires("RadarNoWorkerAlive", "15m"),
            _fires("RadarConsumerLagUnknown", "15m", **api2),
            _quiet("RadarConsumerLagGrowing", "30m"),
            _quiet("RadarApiMetricsMissing", "30m"),
        ]},
        {"interval": "1m", "input_series": [  # the store's gauges and the processes' counters
            _series("radar_outbox_oldest_unsent_seconds", "0+60x40", job="radar-api"),
            _series("radar_outcomes_total", "0+600x40", outcome="processed", job="radar-worker"),
            _series("radar_outcomes_total", "0+60x40", outcome="dead_letter", job="radar-worker"),
            _series("radar_outbox_refused_total", "0x40", job="radar-worker"),
            _series("radar_notifier_deliveries_total", "0+1x40", channel="webhook", outcome="failed"),
            _series("radar_notifier_deliveries_total", "0x40", channel="email", outcome="failed"),
            _series("radar_notifier_oldest_pending_seconds", "0+60x40", job="radar-notifier"),
        ], "promql_expr_test": [
            _quiet("RadarOutboxStuck", "3m"),
            _fires("RadarOutboxStuck", "6m"),
            _fires("RadarDeadLettersRising", "25m"),
            _fires("RadarNotifierDeliveriesFailing", "25m", channel="webhook"),
            _fires("RadarNotifierBehind", "25m"),
            _fires("RadarApiMetricsMissing", "15m"),  # nothing from any API's /metrics
            _quiet("RadarOutboxRefused", "25m"),
        ]},
    ]
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(
        {"rule_files": [RULES.name], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
