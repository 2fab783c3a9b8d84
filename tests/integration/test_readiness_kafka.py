"""The broker readiness check speaks Kafka with the clients' own options (client_options):
"ok" only when this process could actually use the broker. Against the session's broker,
a closed port, and a broker that wants credentials and TLS (the SASL/TLS broker of
test_kafka_security, started once for this module): a wrong password is "authentication
failed", a CA that does not sign the broker or a missing client certificate a TLS error, and
the password never appears. A TLS file that does not exist stops the API at start."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from services.adapters.kafka.local_broker import free_port
from services.adapters.probes import broker_check, readiness
from services.api import create_app
from services.config import KafkaSecurity, Settings
from tests.integration import test_kafka_security as secured
from tests.integration.test_kafka_security import USERS, needs_tls, security_env, settings_for

pytestmark = pytest.mark.integration
broker = secured.broker  # the module-scoped SASL (and TLS) broker, one for this module too
client_pem = secured.client_pem


def broker_answer(settings: Settings) -> str:
    """What /readyz says of the broker (within the probes' timeout)."""
    _, answers = asyncio.run(readiness({"broker": broker_check(settings)}))
    return answers["broker"]


def test_the_sessions_broker_is_ok(kafka_bootstrap):
    assert broker_answer(Settings(kafka_bootstrap=kafka_bootstrap)) == "ok"


def test_a_closed_port_is_no_broker():
    port = free_port()
    assert broker_answer(Settings(kafka_bootstrap=f"127.0.0.1:{port}")) == \
        f"no broker at 127.0.0.1:{port} (connection refused)"


def test_one_broker_of_the_bootstrap_list_answering_is_enough(kafka_bootstrap):
    assert broker_answer(Settings(kafka_bootstrap=f"127.0.0.1:{free_port()},{kafka_bootstrap}")) == "ok"


def test_plaintext_against_a_sasl_listener_is_not_ready(broker):
    answer = broker_answer(Settings(kafka_bootstrap=broker.listeners["SASL_PLAINTEXT"]))
    assert answer != "ok" and answer.startswith("no broker at ")


@pytest.mark.parametrize("mode", ["sasl-scram-sha-256", "sasl-scram-sha-512", "sasl-plain"])
def test_the_right_credentials_are_ok_and_a_wrong_password_is_authentication_failed(broker, mode):
    bootstrap, env = security_env(broker, None, mode)
    assert broker_answer(settings_for(bootstrap, env)) == "ok"
    _, wrong = security_env(broker, None, mode, password="not-the-Password-9")
    answer = broker_answer(settings_for(bootstrap, wrong))
    assert answer == f"authentication failed at {bootstrap}"
    _, unknown = security_env(broker, None, mode, user="alice", password="not-the-Password-9")
    assert broker_answer(settings_for(bootstrap, unknown)).startswith("authentication failed")


@needs_tls
def test_tls_ok_and_what_is_wrong_with_tls(broker, client_pem):
    bootstrap, env = security_env(broker, client_pem, "ssl-client-certificate (Aiven)")
    assert broker_answer(settings_for(bootstrap, env)) == "ok"
    system_cas = {name: value for name, value in env.items() if name != "RADAR_KAFKA_SSL_CAFILE"}
    answer = broker_answer(settings_for(bootstrap, system_cas))
    assert answer.startswith(f"TLS error at {bootstrap} (certificate not trusted"), answer
    no_certificate = {name: value for name, value in env.items() if "CERTFILE" not in name and "KEYFILE" not in name}
    answer = broker_answer(settings_for(bootstrap, no_certificate))
    assert answer.startswith(f"TLS error at {bootstrap} ("), answer  # the broker wants a client certificate
    sasl_bootstrap, sasl_env = security_env(broker, client_pem, "sasl_ssl-scram-sha-512 (MSK)",
                                            password="not-the-Password-9")
    assert broker_answer(settings_for(sasl_bootstrap, sasl_env)) == f"authentication failed at {sasl_bootstrap}"


def test_the_api_is_not_ready_with_a_wrong_password(broker, database_url):
    bootstrap, env = security_env(broker, None, "sasl-scram-sha-512", password="not-the-Password-9")
    api = TestClient(create_app(settings_for(bootstrap, env, database_url=database_url)))
    answer = api.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"database": "ok", "broker": f"authentication failed at {bootstrap}"}
    assert "not-the-Password-9" not in answer.text and USERS["radar"] not in answer.text
    right_bootstrap, right = security_env(broker, None, "sasl-scram-sha-512")
    ready = TestClient(create_app(settings_for(right_bootstrap, right, database_url=database_url))).get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_the_api_does_not_start_with_a_tls_file_that_does_not_exist(tmp_path):
    security = KafkaSecurity(protocol="SSL", ssl_cafile="/nonexist/ca.pem")
    with pytest.raises(ValueError, match="^RADAR_KAFKA_SSL_CAFILE: no such file /nonexist/ca.pem$"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'radar.db'}", kafka_security=security))
    env = dict(os.environ, RADAR_KAFKA_SECURITY_PROTOCOL="SSL", RADAR_KAFKA_SSL_CAFILE="/nonexist/ca.pem",
               RADAR_DATABASE_URL=f"sqlite:///{tmp_path / 'radar.db'}", RADAR_API_PORT=str(free_port()))
    done = subprocess.run([sys.executable, "-m", "services.cli", "api"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "radar: error: RADAR_KAFKA_SSL_CAFILE: no such file /nonexist/ca.pem"


def test_a_file_that_is_not_a_certificate_is_named(tmp_path):
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    for name, security in (
            ("RADAR_KAFKA_SSL_CAFILE", KafkaSecurity(protocol="SSL", ssl_cafile=str(not_pem))),
            ("RADAR_KAFKA_SSL_CAFILE", KafkaSecurity(protocol="SSL", ssl_cafile=str(tmp_path))),
            ("RADAR_KAFKA_SSL_CERTFILE", KafkaSecurity(protocol="SSL", ssl_certfile=str(not_pem))),
            ("RADAR_KAFKA_SSL_KEYFILE", KafkaSecurity(protocol="SSL", ssl_certfile=str(not_pem),
                                                      ssl_keyfile=str(tmp_path / "gone.key")))):
        with pytest.raises(ValueError, match=f"^{name}"):
            create_app(Settings(database_url=f"sqlite:///{tmp_path / 'radar.db'}", kafka_security=security))
