"""Create every topic on start-up if missing (aiokafka's admin client)."""
from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.topics import TOPIC_TABLE
from services.adapters.kafka.client import client_options
from services.config import Settings
from services.logs import get_logger

log = get_logger("radar.topics")


def topic_specs(settings: Settings) -> list[NewTopic]:
    """Every topic of the table (schemas/topics.py) under the deployment's prefix. Candidate
    topics are partitioned by candidate_id; role-specs is compacted and has one partition so
    that every role change is applied in order by a single owner."""
    specs = []
    for spec in TOPIC_TABLE:
        configs = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"} if spec.compacted else {}
        partitions = 1 if spec.single_partition else settings.topic_partitions
        specs.append(NewTopic(settings.topics.physical(spec.name), partitions, settings.topic_replication,
                              topic_configs=configs))
    # Faust's own leader-election topic; the app does not declare topics itself.
    specs.append(NewTopic(f"{settings.app_id}-__assignor-__leader", 1, settings.topic_replication))
    return specs


async def ensure_topics(settings: Settings, attempts: int = 30) -> list[str]:
    """Create the missing topics; returns the names created. Retries while the broker starts."""
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=10000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
            if missing:
                try:
                    await admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass  # another process created them first
            names = [spec.name for spec in missing]
            if names:
                log.info("topics_created", topics=names)
            return names
        except TopicAlreadyExistsError:
            return []
        except Exception as exc:  # the broker may still be starting
            if attempt == attempts - 1:
                raise
            if attempt % 10 == 0:  # a line every 10 s while it waits, not every second
                log.info("waiting_for_kafka", bootstrap=settings.kafka_bootstrap, error=type(exc).__name__,
                         waited_s=attempt)
            await asyncio.sleep(1)
        finally:
            await admin.close()
    return []
