"""Plain aiokafka producer and consumer for the CLI (`radar send`, `radar follow`)."""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Optional

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def produce(bootstrap: str, topic: str, messages: list[tuple[Optional[str], Any]], raw: bool = False) -> None:
    """Send (key, value) pairs in order and wait until Kafka acknowledged every one.

    Values are JSON-encoded, or sent as they are (str/bytes) when `raw` is set."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
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


async def follow(bootstrap: str, topic: str, from_beginning: bool, max_messages: Optional[int],
                 idle_timeout: Optional[float]) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest" if from_beginning else "latest")
    await consumer.start()
    seen = 0
    try:
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
