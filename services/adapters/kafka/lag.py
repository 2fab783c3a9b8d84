"""Consumer lag of the worker group, for /metrics: how far behind the pipeline is, in
messages and in seconds (the age of the oldest message not consumed yet)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import TOPIC_TABLE
from services.adapters.kafka.client import client_options
from services.config import TOPICS, Settings

INPUT_TOPICS = tuple(TOPICS.physical(spec.name) for spec in TOPIC_TABLE if spec.inbound)


@dataclass
class TopicLag:
    messages: int = 0
    seconds: float = 0.0  # age of the oldest unconsumed message; 0 when none waits


async def consumer_lag(settings: Settings, timeout: float = 4.0) -> dict[str, TopicLag]:
    """Per input topic: messages not yet consumed by the worker group, and how long the
    oldest of them has waited."""
    return await asyncio.wait_for(_lag(client_options(settings), settings.app_id), timeout)


async def _lag(options: dict, group_id: str) -> dict[str, TopicLag]:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=2000)
    consumer = AIOKafkaConsumer(**options, group_id=None, request_timeout_ms=2000, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=64 * 1024)
    try:
        await admin.start()
        await consumer.start()
        committed = await admin.list_consumer_group_offsets(group_id)
        partitions = await _partitions(admin)
        ends = await consumer.end_offsets(partitions) if partitions else {}
        lag = {tp.topic: TopicLag() for tp in ends}
        behind: dict[TopicPartition, int] = {}
        for tp, end in ends.items():
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[tp.topic].messages += max(0, end - done)
            if end > done:
                behind[tp] = done
        now_ms = time.time() * 1000
        for tp, timestamp_ms in (await _first_timestamps(consumer, behind)).items():
            lag[tp.topic].seconds = max(lag[tp.topic].seconds, max(0.0, (now_ms - timestamp_ms) / 1000))
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def _first_timestamps(consumer: AIOKafkaConsumer, behind: dict[TopicPartition, int],
                            within_s: float = 1.5) -> dict[TopicPartition, int]:
    """The timestamp of the first unconsumed message of each partition that is behind."""
    if not behind:
        return {}
    consumer.assign(list(behind))
    for tp, offset in behind.items():
        consumer.seek(tp, offset)
    first: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + within_s
    while len(first) < len(behind) and time.monotonic() < deadline:
        batch = await consumer.getmany(*(tp for tp in behind if tp not in first), timeout_ms=300)
        for tp, records in batch.items():
            if records and tp not in first:
                first[tp] = records[0].timestamp
    return first


async def _partitions(admin: AIOKafkaAdminClient) -> list[TopicPartition]:
    existing = set(await admin.list_topics())
    described = await admin.describe_topics([t for t in INPUT_TOPICS if t in existing])
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
