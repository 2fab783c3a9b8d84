"""The whole service against a broker that wants credentials (README, "Managed Kafka").

One broker for the module (LocalKafka with SASL users and, when the JDK's keytool is there,
TLS from a throwaway CA) listens on SASL_PLAINTEXT, SASL_SSL and SSL (mutual TLS). Clients
without credentials, with a wrong password or without the CA are refused; every mechanism
and protocol the settings allow works through the service's own client options; and the
worker (with its relay), the API, the scheduler, the notifier and the CLI work end to end
with nothing but the RADAR_KAFKA_* variables."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context

from services.adapters.kafka.local_broker import TLS_PASSWORD, LocalKafka, free_port
from services.config import KafkaSecurity, Settings
from tests.helpers import bearer, note, position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment
from tests.integration.receivers import HttpReceiver

pytestmark = pytest.mark.integration
USERS = {"radar": "radar-Secret-1", "alice": "alice-Secret-2"}
REFUSED_WITHIN_S = 20.0
HAS_KEYTOOL = shutil.which("keytool") is not None
needs_tls = pytest.mark.skipif(not HAS_KEYTOOL, reason="keytool (JDK) is needed for the broker's certificates")


@pytest.fixture(scope="module")
def broker():
    broker = LocalKafka(Settings.from_env().kafka_home, port=free_port(), sasl_users=USERS, tls=HAS_KEYTOOL)
    try:
        broker.up(timeout=120)
        yield broker
    finally:
        broker.down()
        shutil.rmtree(broker.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def client_pem(broker, tmp_path_factory) -> Optional[tuple[str, str]]:
    """The client certificate and its key as PEM files (keytool cannot export a private key)."""
    if not broker.tls:
        return None
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

    key, cert, _ = pkcs12.load_key_and_certificates(broker.client_keystore.read_bytes(), TLS_PASSWORD.encode())
    folder = tmp_path_factory.mktemp("client-tls")
    (folder / "client.key").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (folder / "client.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    return str(folder / "client.pem"), str(folder / "client.key")


# -- how each kind of managed Kafka is reached: the RADAR_KAFKA_* variables -----------------

MODES = {
    "sasl-scram-sha-256": ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
    "sasl-scram-sha-512": ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
    "sasl-plain": ("SASL_PLAINTEXT", "PLAIN"),
    "sasl_ssl-scram-sha-512 (MSK)": ("SASL_SSL", "SCRAM-SHA-512"),
    "sasl_ssl-plain (Confluent Cloud)": ("SASL_SSL", "PLAIN"),
    "sasl_ssl-scram-sha-256 (Aiven)": ("SASL_SSL", "SCRAM-SHA-256"),
    "ssl-client-certificate (Aiven)": ("SSL", None),
}


def security_env(broker: LocalKafka, client_pem: Optional[tuple[str, str]], mode: str,
                 user: str = "radar", password: Optional[str] = None) -> tuple[str, dict[str, str]]:
    """(bootstrap, RADAR_KAFKA_* variables) for one mode."""
    protocol, mechanism = MODES[mode]
    env = {"RADAR_KAFKA_SECURITY_PROTOCOL": protocol}
    if mechanism:
        env.update(RADAR_KAFKA_SASL_MECHANISM=mechanism, RADAR_KAFKA_SASL_USERNAME=user,
                   RADAR_KAFKA_SASL_PASSWORD=password or USERS[user])
    if protocol in ("SSL", "SASL_SSL"):
        env["RADAR_KAFKA_SSL_CAFILE"] = str(broker.ca_file)
    if protocol == "SSL":
        env.update(RADAR_KAFKA_SSL_CERTFILE=client_pem[0], RADAR_KAFKA_SSL_KEYFILE=client_pem[1])
    return broker.listeners[protocol], env


def mode_params(modes):
    return [pytest.param(m, id=m.split(" ")[0], marks=[needs_tls] if "ssl" in m else []) for m in modes]


def plain_aiokafka_options(bootstrap: str, env: dict[str, str]) -> dict[str, Any]:
    """The same credentials given to aiokafka by hand, not through the service's code."""
    options: dict[str, Any] = {"bootstrap_servers": bootstrap,
                               "security_protocol": env["RADAR_KAFKA_SECURITY_PROTOCOL"]}
    if "RADAR_KAFKA_SASL_MECHANISM" in env:
        options.update(sasl_mechanism=env["RADAR_KAFKA_SASL_MECHANISM"],
                       sasl_plain_username=env["RADAR_KAFKA_SASL_USERNAME"],
                       sasl_plain_password=env["RADAR_KAFKA_SASL_PASSWORD"])
    if "RADAR_KAFKA_SSL_CAFILE" in env:
        options["ssl_context"] = create_ssl_context(cafile=env["RADAR_KAFKA_SSL_CAFILE"],
                                                    certfile=env.get("RADAR_KAFKA_SSL_CERTFILE"),
                                                    keyfile=env.get("RADAR_KAFKA_SSL_KEYFILE"))
    return options


def settings_for(bootstrap: str, env: dict[str, str], **overrides) -> Settings:
    return Settings.from_env(kafka_bootstrap=bootstrap, kafka_security=KafkaSecurity.from_env(env), **overrides)


async def read_topic(options: dict[str, Any], topic: str, until: Callable[[list[dict]], bool],
                     timeout: float = 60.0) -> list[dict]:
    """Every message on a topic from the beginning, until `until(messages)` or timeout."""
    consumer = AIOKafkaConsumer(**options, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.5)
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()])
        await consumer.seek_to_beginning()
        while time.monotonic() < deadline and not until(messages):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                messages.extend(json.loads(r.value) for r in records if r.value is not None)
    finally:
        await consumer.stop()
    return messages


# -- (a) who is refused -------------------------------------------------------------------

async def refused(options: dict[str, Any]) -> str:
    """Starting a producer fails quickly (not a hang): the error's text."""
    producer = AIOKafkaProducer(**options, request_timeout_ms=5000)
    try:
        with pytest.raises(KafkaConnectionError) as failure:
            await asyncio.wait_for(producer.start(), REFUSED_WITHIN_S)
    finally:
        await asyncio.wait_for(producer.stop(), 10)
    return str(failure.value)


def test_a_client_without_credentials_is_refused(broker):
    assert asyncio.run(refused({"bootstrap_servers": broker.bootstrap}))


@pytest.mark.parametrize("mode", mode_params(m for m in MODES if MODES[m][1]))
def test_a_wrong_password_or_an_unknown_user_is_refused(broker, client_pem, mode):
    bootstrap, env = security_env(broker, client_pem, mode, password="not-the-password")
    assert asyncio.run(refused(plain_aiokafka_options(bootstrap, env)))
    env["RADAR_KAFKA_SASL_USERNAME"] = "mallory"
    assert asyncio.run(refused(plain_aiokafka_options(bootstrap, env)))


@needs_tls
def test_tls_without_the_ca_or_without_a_client_certificate_is_refused(broker, client_pem):
    bootstrap, env = security_env(broker, client_pem, "ssl-client-certificate (Aiven)")
    options = plain_aiokafka_options(bootstrap, env)
    assert asyncio.run(refused(dict(options, ssl_context=create_ssl_context())))  # the system's CAs only
    assert asyncio.run(refused(dict(options, ssl_context=create_ssl_context(cafile=str(broker.ca_file)))))  # no cert
    sasl_bootstrap, sasl_env = security_env(broker, client_pem, "sasl_ssl-scram-sha-512 (MSK)")
    sasl_options = plain_aiokafka_options(sasl_bootstrap, sasl_env)
    assert asyncio.run(refused(dict(sasl_options, ssl_context=create_ssl_context())))


def test_the_cli_with_a_wrong_password_fails_in_one_line(broker, tmp_path):
    bootstrap, env = security_env(broker, None, "sasl-scram-sha-256", password="not-the-password")
    spec = tmp_path / "role.json"
    spec.write_text(json.dumps(role_spec("r-x")))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "services.cli", "send", "role-specs", str(spec)], cwd=tmp_path,
                          env=dict(os.environ, RADAR_KAFKA_BOOTSTRAP=bootstrap, **env), capture_output=True,
                          text=True, timeout=90)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("radar: error:")
    assert time.monotonic() - started < 60


# -- every mode through the service's own client options ------------------------------------

@pytest.mark.parametrize("mode", mode_params(MODES))
def test_every_mechanism_and_protocol_works_through_the_service_clients(broker, client_pem, mode):
    from services.adapters.kafka.client import produce
    from services.adapters.kafka.topics import ensure_topics

    bootstrap, env = security_env(broker, client_pem, mode)
    settings = settings_for(bootstrap, env, topic_prefix=f"m{uuid.uuid4().hex[:8]}-", topic_partitions=1)
    topic = settings.topics.physical("role-specs")

    async def round_trip() -> list[dict]:
        await asyncio.wait_for(ensure_topics(settings), 60)
        await asyncio.wait_for(produce(settings, topic, [("r-1", {"mode": mode})]), 60)
        return await read_topic(plain_aiokafka_options(bootstrap, env), topic, lambda m: len(m) >= 1, 30)

    assert asyncio.run(round_trip()) == [{"mode": mode}]


# -- (b) the whole service ------------------------------------------------------------------

class SecureDeployment(Deployment):
    """A Deployment whose processes, topic set-up and test clients all authenticate (the
    shared helpers in kafka_helpers.py speak PLAINTEXT only)."""

    def __init__(self, bootstrap: str, database_url: str, workdir: Path, security: dict[str, str]):
        super().__init__(bootstrap, database_url, workdir)
        self.extra_env.update(security)
        self.security = security

    @property
    def settings(self) -> Settings:
        return settings_for(self.bootstrap, self.security, topic_partitions=3, topic_prefix=self.prefix,
                            database_url=self.database_url)

    def create_topics(self) -> None:
        from services.adapters.kafka.topics import ensure_topics

        asyncio.run(asyncio.wait_for(ensure_topics(self.settings), 60))

    def send(self, logical_topic: str, messages: list[Any], key_field: Optional[str] = None) -> None:
        raise AssertionError("in these tests events go in through the API and the CLI")

    def read(self, logical_topic: str, until: Callable[[list[dict]], bool], timeout: float = 60.0) -> list[dict]:
        options = plain_aiokafka_options(self.bootstrap, self.security)
        return asyncio.run(read_topic(options, self.topic(logical_topic), until, timeout))

    def cli(self, *arguments: str, timeout: float = 90) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "services.cli", *arguments], env=self.env, cwd=self.workdir,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"radar {' '.join(arguments)}: {done.stderr[-1500:]}"
        return done


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"nothing answered at {url}")


END_TO_END = ["sasl-scram-sha-256", "sasl_ssl-scram-sha-512 (MSK)", "ssl-client-certificate (Aiven)"]


@pytest.mark.parametrize("mode", mode_params(END_TO_END))
def test_worker_relay_api_scheduler_notifier_and_cli_end_to_end(broker, client_pem, mode, tmp_path):
    from services.adapters.store.db import make_engine, make_session_factory, upgrade
    from services.app.subscriptions import SubscriptionIn, subscribe

    bootstrap, security = security_env(broker, client_pem, mode)
    database_url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(database_url)
    deployment = SecureDeployment(bootstrap, database_url, tmp_path, security)
    api_port = free_port()
    deployment.extra_env.update(RADAR_API_PORT=str(api_port), RADAR_PUBLIC_URL="http://radar.example")
    api = f"http://127.0.0.1:{api_port}"
    with HttpReceiver() as receiver:
        try:
            engine = make_engine(database_url)
            try:
                subscribe(make_session_factory(engine), SubscriptionIn.model_validate(
                    {"channel": "webhook", "url": receiver.url("/hook"), "secret": "whsec-0123456789abcdef"}))
            finally:
                engine.dispose()
            for command in ("worker", "scheduler", "notifier", "api"):
                deployment.start(command)
            wait_for_http(f"{api}/health")
            headers = bearer(database_url, "admin")

            # a role spec in through the API, a profile event and a note in through the CLI
            spec = role_spec("r-sec", locations=["Berlin"])
            answer = httpx.put(f"{api}/roles/r-sec", json=spec, headers=headers, timeout=30)
            assert answer.status_code == 202, answer.text
            deployment.wait_for_role("r-sec")
            event = profile_event("p-sec", "c-sec", skills=["Python", "Kafka"], location="Berlin, Germany",
                                  name="Ada Example", positions=[position("Senior Data Engineer", "Northwind")])
            (tmp_path / "event.json").write_text(json.dumps(event))
            assert "sent 1 message" in deployment.cli("send", "profile-events", str(tmp_path / "event.json")).stdout
            past = note("n-sec", "c-later", "Happy where she is; check back in 2 months.",
                        occurred_at="2025-01-10T10:00:00Z")
            (tmp_path / "note.json").write_text(json.dumps(past))
            deployment.cli("send", "interview-notes", str(tmp_path / "note.json"))

            # the worker's alert, relayed from its outbox, read by an authenticated consumer
            alerts = deployment.read("match-alerts", lambda m: any(a["candidate_id"] == "c-sec" for a in m), 90)
            [alert] = [a for a in alerts if a["candidate_id"] == "c-sec" and a["role_id"] == "r-sec"]
            assert alert["type"] == "match.alert" and alert["triggered_by"] == "p-sec"
            followed = deployment.cli("follow", "--from-beginning", "--max", "1", "--timeout", "30").stdout
            assert json.loads(followed.splitlines()[0])["alert_id"] == alert["alert_id"]

            # the scheduler's revisit, the notifier's webhook, the API's consumer-lag reading
            signals = deployment.read("candidate-signals", lambda m: any(s["type"] == "revisit_due" for s in m), 90)
            assert [s["candidate_id"] for s in signals if s["type"] == "revisit_due"] == ["c-later"]
            assert receiver.wait_for(lambda: receiver.at("/hook"), 60)
            assert json.loads(receiver.at("/hook")[0].body)["alert_id"] == alert["alert_id"]
            metrics = httpx.get(f"{api}/metrics", headers=headers, timeout=30).text
            assert "radar_consumer_lag_up 1.0" in metrics
        finally:
            deployment.stop_all()
    assert all(p.returncode in (0, -15) for p in deployment.processes), [p.returncode for p in deployment.processes]
