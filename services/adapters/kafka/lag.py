"""Consumer lag of the worker group, for /metrics: how far behind the pipeline is."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import TOPIC_TABLE
from services.adapters.kafka.client import client_options
from services.config import TOPICS, Settings

INPUT_TOPICS = tuple(TOPICS.physical(spec.name) for spec in TOPIC_TABLE if spec.inbound)


async def consumer_lag(settings: Settings, timeout: float = 3.0) -> dict[str, int]:
    """Messages not yet consumed by the worker group, per input topic (end offset - committed)."""
    return await asyncio.wait_for(_lag(client_options(settings), settings.app_id), timeout)


async def _lag(options: dict, group_id: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=2000)
    consumer = AIOKafkaConsumer(**options, group_id=None, request_timeout_ms=2000)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
        partitions = await _partitions(admin)
        ends = await consumer.end_offsets(partitions) if partitions else {}
        lag: dict[str, int] = {}
        for tp, end in ends.items():
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - done)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def _partitions(admin: AIOKafkaAdminClient) -> list:
    from aiokafka import TopicPartition

    existing = set(await admin.list_topics())
    described = await admin.describe_topics([t for t in INPUT_TOPICS if t in existing])
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
