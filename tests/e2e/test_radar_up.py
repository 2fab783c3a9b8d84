"""`radar up` as a new user runs it: it starts its own broker, then alerts flow end to end."""
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from services.adapters.kafka.local_broker import LocalKafka, free_port, is_answering
from services.config import Settings
from tests.helpers import position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment
from tests.processes import stop_process

pytestmark = pytest.mark.e2e


def http_get(url: str, key: str = ""):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read().decode()


def first_key(log_path) -> str:
    """The admin key `radar up` prints once, on its first start."""
    for line in log_path.read_text(errors="replace").splitlines():
        if "export RADAR_API_KEY=" in line:
            return line.split("=", 1)[1].strip()
    raise AssertionError("radar up printed no API key")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def stop_radar_up(up: subprocess.Popen, log) -> None:
    """Ctrl-C, as a user stops it; killed if it has not stopped within a minute."""
    stop_process(up, signal.SIGINT, timeout=60)
    log.close()


def test_radar_up_end_to_end(tmp_path):
    kafka_port, api_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{kafka_port}"
    deployment = Deployment(bootstrap, f"sqlite:///{tmp_path / 'radar.db'}", tmp_path)
    env = dict(deployment.env, RADAR_API_PORT=str(api_port))
    log = open(tmp_path / "up.log", "wb")
    up = subprocess.Popen([sys.executable, "-m", "services.cli", "up"], env=env, cwd=tmp_path,
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{api_port}/health")[0] == 200, 120, "the API to be healthy")
        deployment.send("role-specs", [role_spec("r-7", locations=["Lisbon"])], key_field="role_id")
        deployment.wait_for_role("r-7")
        events = [
            profile_event("p1", "c-1", "2026-11-20T10:00:00Z", skills=["python"], location="Lisbon, Portugal",
                          positions=[position("Senior Data Engineer", "Northwind")]),
            profile_event("p2", "c-1", "2026-11-21T10:00:00Z", skills=["Python", "Apache Kafka"]),
        ]
        deployment.send("profile-events", events, key_field="candidate_id")
        alerts = deployment.read("match-alerts", lambda m: len(m) >= 1, timeout=90)
        assert [(a["type"], a["role_id"], a["candidate_id"]) for a in alerts] == [("match.alert", "r-7", "c-1")]
        key = first_key(tmp_path / "up.log")
        try:
            http_get(f"http://127.0.0.1:{api_port}/alerts")
            raise AssertionError("the API answered without credentials")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        wait_for(lambda: json.loads(http_get(f"http://127.0.0.1:{api_port}/alerts", key)[1]), 30, "the alert in the API")
        status, metrics = http_get(f"http://127.0.0.1:{api_port}/metrics")
        assert status == 200 and "radar_outbox_backlog" in metrics
        assert "radar_consumer_lag_up 1.0" in metrics and "radar_consumer_lag{topic=" in metrics
        status, body = http_get(f"http://127.0.0.1:{api_port}/roles/r-7/shortlist", key)
        assert json.loads(body)["candidates"][0]["candidate_id"] == "c-1"
    finally:
        stop_radar_up(up, log)
        # the broker `radar up` started keeps its files for the next `up`; this one was the test's
        shutil.rmtree(LocalKafka(Settings.from_env().kafka_home, port=kafka_port).dir, ignore_errors=True)
    assert up.returncode == 0, (tmp_path / "up.log").read_text()[-2000:]
    assert not is_answering("127.0.0.1", kafka_port), "radar up should stop the broker it started"
