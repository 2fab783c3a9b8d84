"""How every Kafka client connects (`client_options`), and plain aiokafka producer and
consumer for the CLI and the API (`radar send`, `radar follow`)."""
from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from typing import Any, Optional

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from services.config import KafkaSecurity, Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """aiokafka's keyword arguments for where the brokers are and how to authenticate
    (README, "Managed Kafka"): every producer, consumer and admin client takes these."""
    security = settings.kafka_security
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap, "security_protocol": security.protocol}
    if security.uses_sasl:
        options.update(sasl_mechanism=security.sasl_mechanism, sasl_plain_username=security.sasl_username,
                       sasl_plain_password=security.sasl_password)
    if security.uses_tls:
        options["ssl_context"] = tls_context(security)
    return options


def tls_context(security: KafkaSecurity) -> Optional[ssl.SSLContext]:
    """The TLS context for SSL and SASL_SSL: the system's CAs unless a CA file is given; a
    client certificate for mutual TLS. A file that is missing, unreadable or not what it
    should be is a ValueError naming its variable (the process does not start)."""
    if not security.uses_tls:
        return None
    for variable, path in (("RADAR_KAFKA_SSL_CAFILE", security.ssl_cafile),
                           ("RADAR_KAFKA_SSL_CERTFILE", security.ssl_certfile),
                           ("RADAR_KAFKA_SSL_KEYFILE", security.ssl_keyfile)):
        if path:
            _check_readable(variable, path)
    try:
        context = create_ssl_context(cafile=security.ssl_cafile)
    except ssl.SSLError as exc:
        raise ValueError(f"RADAR_KAFKA_SSL_CAFILE: no CA certificate (PEM) in {security.ssl_cafile} "
                         f"({exc.reason or exc})") from None
    if security.ssl_certfile:
        try:
            context.load_cert_chain(security.ssl_certfile, security.ssl_keyfile, security.ssl_key_password)
        except ssl.SSLError as exc:
            raise ValueError("RADAR_KAFKA_SSL_CERTFILE, RADAR_KAFKA_SSL_KEYFILE: not a certificate and its key in "
                             f"{security.ssl_certfile} and {security.ssl_keyfile or 'the same file'}, or a wrong "
                             f"RADAR_KAFKA_SSL_KEY_PASSWORD ({exc.reason or exc})") from None
    return context


def _check_readable(variable: str, path: str) -> None:
    if not os.path.exists(path):
        raise ValueError(f"{variable}: no such file {path}")
    if not os.path.isfile(path):
        raise ValueError(f"{variable}: not a file: {path}")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path} ({exc.strerror or type(exc).__name__})") from None


async def produce(settings: Settings, topic: str, messages: list[tuple[Optional[str], Any]],
                  raw: bool = False) -> None:
    """Send (key, value) pairs in order and wait until Kafka acknowledged every one.

    Values are JSON-encoded, or sent as they are (str/bytes) when `raw` is set."""
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True,
                                request_timeout_ms=15000)
    try:
        await producer.start()
        futures = []
        for key, value in messages:
            if value is None:
                payload = None
            elif raw:
                payload = value if isinstance(value, bytes) else str(value).encode()
            else:
                payload = json.dumps(value).encode()
            futures.append(await producer.send(topic, value=payload, key=key.encode() if key else None))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def follow(settings: Settings, topic: str, from_beginning: bool, max_messages: Optional[int],
                 idle_timeout: Optional[float]) -> int:
    bootstrap = settings.kafka_bootstrap
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None,
                                auto_offset_reset="earliest" if from_beginning else "latest")
    seen = 0
    try:
        await consumer.start()
        existing = await consumer.topics()
        if topic not in existing:
            ours = sorted(t for t in existing if not t.startswith("__") and "-__assignor" not in t)
            raise ValueError(f"no topic {topic!r} at {bootstrap}; topics there: {', '.join(ours) or 'none'}")
        consumer.subscribe([topic])
        while max_messages is None or seen < max_messages:
            batch = await consumer.getmany(timeout_ms=int((idle_timeout or 3600) * 1000))
            if not batch:
                break
            for records in batch.values():
                for record in records:
                    print(_pretty(record.value), flush=True)
                    seen += 1
    finally:
        await consumer.stop()
    print(f"({seen} message(s))", file=sys.stderr)
    return seen


def _pretty(value: Optional[bytes]) -> str:
    if value is None:
        return "null"
    try:
        return json.dumps(json.loads(value), ensure_ascii=False)
    except ValueError:
        return value.decode("utf-8", errors="replace")
