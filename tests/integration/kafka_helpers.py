"""Running a real `radar worker` subprocess and talking to it through Kafka."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.processes import stop_process


class Deployment:
    """One isolated deployment on the shared test broker: its own topic prefix, consumer
    group and database, so tests never see each other's messages."""

    def __init__(self, bootstrap: str, database_url: str, workdir: Path):
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.workdir = workdir
        self.prefix = f"t{uuid.uuid4().hex[:8]}-"
        self.processes: list[subprocess.Popen] = []
        self.extra_env: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(RADAR_KAFKA_BOOTSTRAP=self.bootstrap, RADAR_DATABASE_URL=self.database_url,
                   RADAR_TOPIC_PREFIX=self.prefix, RADAR_APP_ID=f"radar-{self.prefix}", RADAR_TOPIC_PARTITIONS="3",
                   RADAR_LOG_LEVEL="INFO", RADAR_SCHEDULER_SCAN_S="1")
        env.update(self.extra_env)
        return env

    def create_topics(self) -> None:
        """What the worker does on start-up, done first so producers never race it."""
        from services.adapters.kafka.topics import ensure_topics
        from services.config import Settings

        asyncio.run(ensure_topics(Settings.from_env(kafka_bootstrap=self.bootstrap, topic_partitions=3,
                                                    topic_prefix=self.prefix)))

    def wait_for_role(self, role_id: str, status: str = "open", timeout: float = 60.0) -> None:
        """Role specs and candidate events travel on different topics: wait until the spec is applied."""
        self.wait_for_sql("SELECT status FROM role_specs WHERE role_id = :r", {"r": role_id}, status, timeout)

    def wait_for_sql(self, query: str, params: dict, expected: Any, timeout: float = 60.0) -> None:
        """Poll the deployment's database until the query's first column equals `expected`."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    row = connection.execute(text(query), params).first()
                if row is not None and row[0] == expected:
                    return
                time.sleep(0.2)
        finally:
            engine.dispose()
        raise AssertionError(f"{query} {params} never gave {expected!r}")

    def topic(self, logical: str) -> str:
        return self.prefix + logical

    def start(self, command: str = "worker") -> subprocess.Popen:
        if not self.processes:
            self.create_topics()
        log = open(self.workdir / f"{command}-{len(self.processes)}.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "services.cli", command], env=self.env, cwd=self.workdir,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, hard: bool = False) -> None:
        if process.poll() is None:
            stop_process(process, signal.SIGKILL if hard else signal.SIGTERM)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    def send(self, logical_topic: str, messages: list[Any], key_field: Optional[str] = None) -> None:
        asyncio.run(_produce(self.bootstrap, self.topic(logical_topic), messages, key_field))

    def send_raw(self, logical_topic: str, records: list[tuple[Optional[bytes], Optional[bytes]]]) -> None:
        """(key, value) pairs sent as they are: hostile bytes, long keys."""
        asyncio.run(_produce_raw(self.bootstrap, self.topic(logical_topic), records))

    def read(self, logical_topic: str, until: Callable[[list[dict]], bool], timeout: float = 60.0) -> list[dict]:
        """Every message on a topic from the beginning, polling until `until(messages)` or timeout."""
        return asyncio.run(_read(self.bootstrap, self.topic(logical_topic), until, timeout))


async def _produce(bootstrap: str, topic: str, messages: list[Any], key_field: Optional[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for message in messages:
            if isinstance(message, bytes):
                value, key = message, None
            elif isinstance(message, tuple):  # (key, value-or-None): tombstones
                key = message[0].encode()
                value = None if message[1] is None else json.dumps(message[1]).encode()
            else:
                value = json.dumps(message).encode()
                key = str(message.get(key_field)).encode() if key_field and message.get(key_field) else None
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def _produce_raw(bootstrap: str, topic: str, records: list[tuple[Optional[bytes], Optional[bytes]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2_000_000)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str, until: Callable[[list[dict]], bool], timeout: float) -> list[dict]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while not consumer.partitions_for_topic(topic):
            await consumer._client.force_metadata_update()  # the worker may not have created it yet
            if time.monotonic() > deadline:
                return messages
            await asyncio.sleep(0.5)
        from aiokafka import TopicPartition
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        await consumer.seek_to_beginning()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                messages.extend(json.loads(r.value) for r in records if r.value is not None)
            if until(messages):
                break
    finally:
        await consumer.stop()
    return messages
