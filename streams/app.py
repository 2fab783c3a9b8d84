"""The Faust app: agents that decode, call the pipeline, and the outbox relay.

Thin on purpose: everything that thinks lives in `services`. Database work runs on a
single thread of its own so the event loop (Kafka heartbeats, fetches) never blocks.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import faust
from sqlalchemy.exc import DBAPIError

from schemas import TOPICS
from services import metrics
from services.config import Settings
from services.decoding import ORIGIN_KEY_HEADER, REKEY_HEADER, RawRecord, from_rekeyed, misrouted_candidate_id
from services.logs import get_logger
from services.pipeline import BatchResult, Pipeline
from services.relay import OutboxClaim, prune_sent
from services.store.db import make_engine, make_session_factory

log = get_logger("radar.worker")
T = TypeVar("T")


class Worker:
    """Holds the app, the pipeline and the database thread of one `radar worker` process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_session_factory(self.engine)
        self.pipeline = Pipeline(self.sessions, tenure_windows=settings.tenure_windows_months)
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="radar-db")
        self.outbox_ready = asyncio.Event()
        self.app = self._build_app()

    async def db(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, fn, *args)

    def _build_app(self) -> faust.App:
        s = self.settings
        # Faust wants a data directory even with no tables; keep it out of the working directory.
        datadir = s.kafka_home.parent / "faust"
        datadir.mkdir(parents=True, exist_ok=True)
        app = faust.App(
            s.app_id, broker=f"kafka://{s.kafka_bootstrap}", store="memory://", web_enabled=False,
            topic_partitions=s.topic_partitions, topic_replication_factor=s.topic_replication,
            topic_allow_declare=False, consumer_auto_offset_reset="earliest",
            broker_commit_every=100, broker_commit_interval=1.0, producer_acks=-1,
            stream_wait_empty=False, datadir=str(datadir),
        )
        raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
        candidate_topics = app.topic(TOPICS.profile_events, TOPICS.interview_notes, TOPICS.timers,
                                     TOPICS.rekeyed, **raw)
        role_topic = app.topic(TOPICS.role_specs, **raw)

        @app.agent(candidate_topics, name="candidate-events")
        async def candidate_events(stream):
            async for events in stream.take_events(s.batch_size, within=s.batch_within_s):
                records = await self.route(app, [_record(e) for e in events])
                if records:
                    await self.handle(records)

        @app.agent(role_topic, name="role-specs")
        async def role_specs(stream):
            async for events in stream.take_events(s.batch_size, within=s.batch_within_s):
                await self.handle([_record(e) for e in events])

        @app.task
        async def relay() -> None:
            await self.relay_forever(app)

        @app.timer(interval=3600.0)
        async def prune() -> None:
            removed = await self.db(prune_sent, self.sessions)
            log.info("outbox_pruned", rows=removed)

        return app

    async def handle(self, records: list[RawRecord]) -> BatchResult:
        """Process a batch until it is stored. Records are acknowledged only after this returns."""
        delay = 0.5
        while True:
            try:
                with metrics.BATCH_SECONDS.time():
                    result = await self.db(self.pipeline.process_safely, records)
                break
            except DBAPIError as exc:  # database down, lock timeout, concurrent writer: retry the batch
                log.warning("batch_retry", error=type(exc).__name__, delay_s=delay, size=len(records))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        metrics.record_batch(records, result)
        if result.signals or result.alerts or result.withdrawals or result.dead_letters:
            self.outbox_ready.set()
        return result

    async def route(self, app: faust.App, records: list[RawRecord]) -> list[RawRecord]:
        """Forward events keyed by something other than their candidate_id to `radar-rekeyed`,
        keyed right, so a candidate's events meet on one partition; return the rest.

        The forward is acknowledged by Kafka before the original is; a crash in between
        forwards it twice, and the second copy is skipped as a duplicate event id."""
        keep, forwards = [], []
        for record in records:
            candidate_id = misrouted_candidate_id(record)
            if candidate_id is None:
                keep.append(record)
                continue
            headers = [(REKEY_HEADER, record.position.encode())]
            if record.key is not None:
                headers.append((ORIGIN_KEY_HEADER, record.key))
            forwards.append(await app.producer.send(TOPICS.rekeyed, candidate_id.encode(), record.value,
                                                    None, None, headers))
        for future in forwards:
            await future
        metrics.REKEYED.inc(len(forwards))
        return keep

    async def relay_forever(self, app: faust.App) -> None:
        """Publish outbox rows in order and mark them sent once Kafka acknowledged them."""
        while not app.should_stop:
            try:
                sent = await self.relay_once(app)
            except Exception:
                log.exception("relay_failed")
                sent = 0
                await asyncio.sleep(1.0)
            if not sent:
                try:
                    await asyncio.wait_for(self.outbox_ready.wait(), timeout=self.settings.relay_interval_s)
                except asyncio.TimeoutError:
                    pass
                self.outbox_ready.clear()

    async def relay_once(self, app: faust.App) -> int:
        claim = await self.db(OutboxClaim, self.sessions)
        sent_ids: list[int] = []
        try:
            pending = [(m, await app.producer.send(m.topic, m.key, m.value, None, None, None)) for m in claim.messages]
            for message, future in pending:
                await future
                sent_ids.append(message.id)
                metrics.OUTBOX_PUBLISHED.labels(topic=message.topic).inc()
        finally:
            await self.db(claim.complete, sent_ids)
        return len(sent_ids)


def _record(event) -> RawRecord:
    message = event.message
    headers = dict(message.headers or []) if message.topic == TOPICS.rekeyed else {}
    if headers.get(REKEY_HEADER):
        # Decoded and dead-lettered as the record first received: its topic, position and key.
        return from_rekeyed(headers.get(ORIGIN_KEY_HEADER), message.value, headers[REKEY_HEADER].decode())
    return RawRecord(topic=message.topic, partition=message.partition, offset=message.offset,
                     key=message.key, value=message.value)
