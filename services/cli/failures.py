"""What the `radar` command says of a failure it did not expect: one line."""
from __future__ import annotations

from typing import Optional

from aiokafka import errors as kafka_errors

from services.adapters.kafka.local_broker import KafkaSetupError
from services.config import Settings


def unexpected(exc: Exception, settings: Optional[Settings]) -> str:
    """One line for a failure no command expected: the broker's, in words; others by kind."""
    if isinstance(exc, KafkaSetupError):
        return str(exc)
    where = settings.kafka_bootstrap if settings else "RADAR_KAFKA_BOOTSTRAP"
    if isinstance(exc, kafka_errors.KafkaConnectionError):
        return (f"no Kafka broker answers at {where} (RADAR_KAFKA_BOOTSTRAP): start `radar up` or `radar kafka up`, "
                "or set RADAR_KAFKA_BOOTSTRAP (and RADAR_KAFKA_SECURITY_PROTOCOL) to yours")
    if isinstance(exc, (kafka_errors.SaslAuthenticationFailed, kafka_errors.AuthenticationFailedError,
                        kafka_errors.UnsupportedSaslMechanismError)):
        return f"Kafka at {where} refused the credentials (RADAR_KAFKA_SASL_*)"
    if isinstance(exc, kafka_errors.KafkaTimeoutError):
        return f"Kafka at {where} did not acknowledge in time; nothing is known to be sent: try again"
    if isinstance(exc, kafka_errors.KafkaError):
        return f"Kafka at {where}: {type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"
