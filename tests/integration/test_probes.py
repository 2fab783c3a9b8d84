"""Probes in each failure mode: /livez answers whatever else is down; /readyz says what is
wrong (database, broker, partitions, jobs) with 503, and 200 once it is right. The API in
process; the worker, scheduler and notifier as real processes against a broker of this
module's own, which the test stops and starts again."""
import asyncio
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from services.adapters.kafka.local_broker import LocalKafka, free_port
from services.adapters.probes import ProbeServer, broker_check, database_check, readiness
from services.adapters.store.db import make_engine
from services.api import create_app
from services.config import Settings
from tests.integration.kafka_helpers import Deployment

pytestmark = pytest.mark.integration


def test_readiness_names_what_is_wrong_and_a_hanging_check_times_out(database_url):
    async def hangs():
        await asyncio.sleep(30)

    dead_db = make_engine("postgresql+psycopg2://radar:radar@127.0.0.1:1/none")
    checks = {"database": database_check(make_engine(database_url)),
              "broker": broker_check(Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")),
              "dead database": database_check(dead_db), "hangs": hangs}
    ready, answers = asyncio.run(readiness(checks))
    assert not ready and answers["database"] == "ok" and answers["broker"].startswith("no broker at 127.0.0.1:")
    assert answers["dead database"] == "OperationalError" and answers["hangs"] == "no answer within 2 s"


def test_the_api_probes(database_url, kafka_bootstrap):
    up = TestClient(create_app(Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)))
    assert up.get("/livez").json() == {"status": "ok"}
    assert up.get("/readyz").json() == {"ready": True, "checks": {"database": "ok", "broker": "ok"}}
    no_broker = TestClient(create_app(Settings(database_url=database_url, kafka_bootstrap=f"127.0.0.1:{free_port()}")))
    answer = no_broker.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["database"] == "ok"
    assert no_broker.get("/livez").status_code == 200  # a Kafka outage restarts no API pod
    no_db = TestClient(create_app(Settings(database_url="postgresql+psycopg2://radar:radar@127.0.0.1:1/none",
                                           kafka_bootstrap=kafka_bootstrap)))
    answer = no_db.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"] == {"database": "OperationalError", "broker": "ok"}
    assert no_db.get("/livez").status_code == 200


def test_a_probe_server_serves_metrics_too():
    import services.metrics  # noqa: F401  what a worker, notifier or scheduler process has loaded

    async def scenario():
        port = free_port()
        server = ProbeServer("127.0.0.1", port, {"always": _fine})
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return [(await client.get(path)) for path in ("/livez", "/readyz", "/metrics")]
        finally:
            await server.stop()

    livez, readyz, metrics = asyncio.run(scenario())
    assert livez.json() == {"status": "ok"} and readyz.json() == {"ready": True, "checks": {"always": "ok"}}
    assert metrics.headers["content-type"].startswith("text/plain") and "radar_" in metrics.text


async def _fine():
    return None


@pytest.fixture(scope="module")
def own_broker():
    broker = LocalKafka(Settings.from_env().kafka_home, port=free_port())
    broker.up()
    yield broker
    broker.down()


def probe(port: int, path: str) -> tuple[int, dict]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.HTTPError:
        return 0, {}
    return answer.status_code, answer.json()


def wait_for(port: int, path: str, status: int, timeout: float = 90) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        code, body = probe(port, path)
        if code == status:
            return body
        last = (code, body)
        time.sleep(0.5)
    raise AssertionError(f"{path} on {port} did not answer {status}: last {last}")


def test_worker_scheduler_and_notifier_probes_follow_the_broker(own_broker, database_url, tmp_path):
    deployment = Deployment(own_broker.bootstrap, database_url, tmp_path)
    ports = {"worker": free_port(), "scheduler": free_port(), "notifier": free_port()}
    deployment.extra_env.update({"RADAR_WORKER_METRICS_PORT": str(ports["worker"]),
                                 "RADAR_SCHEDULER_PORT": str(ports["scheduler"]),
                                 "RADAR_NOTIFIER_METRICS_PORT": str(ports["notifier"]),
                                 "RADAR_SCHEDULER_SCAN_S": "1"})
    try:
        for name in ports:
            deployment.start(name)
        worker = wait_for(ports["worker"], "/readyz", 200)
        assert worker["checks"] == {"database": "ok", "broker": "ok", "partitions": "ok"}
        assert wait_for(ports["scheduler"], "/readyz", 200)["checks"] == {"database": "ok", "broker": "ok",
                                                                          "jobs": "ok"}
        assert wait_for(ports["notifier"], "/readyz", 200)["checks"]["partitions"] == "ok"
        assert "radar_scheduler_last_run_age_seconds" in httpx.get(
            f"http://127.0.0.1:{ports['scheduler']}/metrics").text
        own_broker.down()
        for name, port in ports.items():
            down = wait_for(port, "/readyz", 503)
            assert down["checks"]["broker"].startswith("no broker at"), name
            assert probe(port, "/livez") == (200, {"status": "ok"}), name  # alive: no restart for an outage
        own_broker.up()
        for port in ports.values():
            wait_for(port, "/readyz", 200)
    finally:
        deployment.stop_all()
        if not own_broker.status()["answering"]:
            own_broker.up()


def test_the_api_metrics_name_each_family_once(database_url):
    import collections

    import services.metrics  # noqa: F401  the worker's metrics in this process too, as in a test run

    text = TestClient(create_app(Settings(database_url=database_url, kafka_bootstrap=f"127.0.0.1:{free_port()}"))
                      ).get("/metrics").text
    helps = collections.Counter(line.split()[2] for line in text.splitlines() if line.startswith("# HELP"))
    assert helps and not [name for name, count in helps.items() if count > 1]
    assert "radar_consumer_lag_up 0.0" in text and "process_resident_memory_bytes" in text
