"""Kafka security settings: one place (Settings.kafka_security), read from the environment,
checked at start, and handed the same way to aiokafka clients and to the faust worker."""
import ssl

import pytest

from services.adapters.kafka.client import client_options
from services.config import KafkaSecurity, Settings
from streams.app import faust_credentials

SCRAM = {"RADAR_KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "RADAR_KAFKA_SASL_MECHANISM": "scram-sha-512",
         "RADAR_KAFKA_SASL_USERNAME": "radar", "RADAR_KAFKA_SASL_PASSWORD": "s3cret"}


def test_the_default_is_the_plain_listener():
    options = client_options(Settings(kafka_bootstrap="k:9092"))
    assert options == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert faust_credentials(KafkaSecurity()) is None


def test_sasl_over_tls_from_the_environment(monkeypatch):
    for name, value in SCRAM.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(kafka_bootstrap="broker.example:9096")
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("radar", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED  # the system's CAs check the broker
    credentials = faust_credentials(settings.kafka_security)
    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.username == "radar"


def test_tls_only_gives_faust_ssl_credentials():
    credentials = faust_credentials(KafkaSecurity(protocol="SSL"))
    assert credentials.protocol.value == "SSL"


@pytest.mark.parametrize("security, says", [
    (dict(protocol="KERBEROS"), "RADAR_KAFKA_SECURITY_PROTOCOL"),
    (dict(protocol="SASL_PLAINTEXT", sasl_mechanism="GSSAPI", sasl_username="a", sasl_password="b"),
     "RADAR_KAFKA_SASL_MECHANISM"),
    (dict(protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="a"), "RADAR_KAFKA_SASL_PASSWORD"),
])
def test_an_incomplete_setting_is_one_clear_message(security, says):
    with pytest.raises(ValueError, match=says):
        KafkaSecurity(**security)


def test_a_missing_ca_file_is_named():
    with pytest.raises(ValueError, match="RADAR_KAFKA_SSL_CAFILE: no such file /nonexistent/ca.pem"):
        client_options(Settings(kafka_security=KafkaSecurity(protocol="SSL", ssl_cafile="/nonexistent/ca.pem")))


@pytest.mark.parametrize("security, says", [
    (dict(sasl_username="radar", sasl_password="x"), "RADAR_KAFKA_SASL_\\* is set but"),
    (dict(protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="a", sasl_password="b",
          ssl_cafile="/ca.pem"), "RADAR_KAFKA_SSL_\\* is set but"),
])
def test_settings_that_would_be_ignored_are_refused(security, says):
    with pytest.raises(ValueError, match=says):
        KafkaSecurity(**security)
