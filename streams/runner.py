"""Start the Faust worker for `radar worker`."""
from __future__ import annotations

import asyncio

from services.adapters.kafka.topics import ensure_topics
from services.config import Settings
from services.logs import get_logger, stdlib_logging_config

log = get_logger("radar.worker")


def run_worker(settings: Settings) -> None:
    import faust

    from streams.app import Worker

    asyncio.run(ensure_topics(settings))
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = Worker(settings)
    log.info("worker_starting", bootstrap=settings.kafka_bootstrap, partitions=settings.topic_partitions)
    # Faust's and aiokafka's lines go out as JSON too; warnings and up unless debugging.
    faust_level = "DEBUG" if settings.log_level == "DEBUG" else "WARNING"
    faust_worker = faust.Worker(worker.app, loglevel=faust_level, quiet=True, redirect_stdouts=False,
                                logging_config=stdlib_logging_config(faust_level))
    faust_worker.spinner = None  # Faust's terminal spinner writes escape codes into logs
    faust_worker.execute_from_commandline()
