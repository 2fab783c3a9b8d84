"""The Faust app: agents that decode, call the pipeline, and the outbox relay.

Thin on purpose: everything that thinks lives in `services`. Database work runs on a
single thread of its own so the event loop (Kafka heartbeats, fetches) never blocks.

No exception ends an agent. Faust acknowledges a batch's records once the agent moves
past it (and, were the agent to crash, when its stream closes), so an agent may move on
only when every record of the batch is stored or dead-lettered: whatever fails on the
way is retried, with a growing pause, until it succeeds, and a batch that keeps failing
is visible in /health, in the worker's heartbeat and in `radar_batch_retrying_seconds`.
"""
from __future__ import annotations

import asyncio
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Awaitable, Callable, Optional, TypeVar

import faust
from aiokafka import AIOKafkaProducer

from schemas.topics import CANDIDATE_TOPICS
from services import metrics
from services.adapters.kafka.client import client_options, tls_context
from services.adapters.kafka.direct_relay import DirectRelay, held_token
from services.adapters.kafka.records import ORIGIN_KEY_HEADER, REKEY_HEADER, RawRecord, from_rekeyed
from services.adapters.kafka.relay import Relay, refused_for_good
from services.adapters.probes import ProbeServer, broker_check, database_check
from services.adapters.store.db import make_engine, make_session_factory, utcnow
from services.adapters.store.heartbeats import WorkerPulse, beat, forget
from services.adapters.store.outbox import OutboxStore, prune_sent
from services.app.decoding import decode_safely, misrouted_candidate_id
from services.app.pipeline import BatchResult, Pipeline
from services.config import TOPICS, KafkaSecurity, Settings
from services.errors import log_fields
from services.logs import get_logger
from streams.batches import drained_batches

log = get_logger("radar.worker")
T = TypeVar("T")
HEARTBEAT_EVERY_S = 5.0
MAX_PAUSE_S = 30.0


class Worker:
    """Holds the app, the pipeline and the database thread of one `radar worker` process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.database_url, checkpoint_apart=True)
        self.sessions = make_session_factory(self.engine)
        self.pipeline = Pipeline(self.sessions, tenure_windows=settings.tenure_windows_months)
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="radar-db")
        self.worker_id = settings.worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.pulse = WorkerPulse(self.worker_id, started_at=utcnow())
        self.failing: dict[str, tuple[datetime, str]] = {}  # agent stage -> (failing since, what)
        self.outbox = OutboxStore(self.sessions, self.worker_id, settings.relay_lease_s)
        self.outbox_ready = asyncio.Event()
        held = OutboxStore(self.sessions, held_token(self.worker_id), settings.relay_lease_s)
        self.pipeline.outbox_holder = held.relay_id
        self.direct = DirectRelay(held, self.started_producer, self.db, self.outbox_ready.set)
        self.producer: Optional[AIOKafkaProducer] = None
        self.producer_ready = asyncio.Event()
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
            broker_session_timeout=s.session_timeout_s, broker_heartbeat_interval=s.heartbeat_interval_s,
            consumer_group_instance_id=s.worker_id, broker_credentials=faust_credentials(s.kafka_security),
        )
        raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
        candidate_topics = app.topic(*(TOPICS.physical(name) for name in CANDIDATE_TOPICS), TOPICS.rekeyed, **raw)
        role_topic = app.topic(TOPICS.role_specs, **raw)

        @app.agent(candidate_topics, name="candidate-events")
        async def candidate_events(stream):
            async for events in drained_batches(stream, s.batch_size):
                await self.consume(events, route=True)

        @app.agent(role_topic, name="role-specs")
        async def role_specs(stream):
            async for events in drained_batches(stream, s.batch_size):
                await self.consume(events, route=False)

        @app.task
        async def relay() -> None:
            await self.relay_forever(app)

        @app.task
        async def heartbeat() -> None:
            await self.beat_forever(app)

        @app.task
        async def probes() -> None:
            await self.serve_probes(app)

        @app.timer(interval=3600.0)
        async def prune() -> None:
            try:
                removed = await self.db(prune_sent, self.sessions)
                log.info("outbox_pruned", rows=removed)
            except Exception as exc:  # the next hour tries again
                log.warning("outbox_prune_failed", **log_fields(exc))

        return app

    async def serve_probes(self, app: faust.App) -> None:
        """/livez, /readyz (database, broker, partitions assigned) and /metrics on the worker's
        port (RADAR_WORKER_METRICS_PORT), on the loop that consumes."""
        if not self.settings.worker_metrics_port:
            return

        async def partitions() -> Optional[str]:
            if app.consumer.assignment():
                return None
            return "no partitions assigned (joining the group, or more workers than partitions)"

        checks = {"database": database_check(self.engine), "broker": broker_check(self.settings),
                  "partitions": partitions}
        await ProbeServer(self.settings.api_host, self.settings.worker_metrics_port, checks).start()

    # -- consuming ---------------------------------------------------------------

    async def consume(self, events, route: bool) -> None:
        """Store or dead-letter every record of a batch; return only when that is done."""
        records = [_record_safely(event) for event in events]
        decoded = None
        if route:
            records, decoded = await self.until_done("route", lambda: self.route(records))
        if records:
            await self.until_done("store", lambda: self.handle(records, decoded))

    async def until_done(self, stage: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt` until it succeeds, pausing longer after each failure (0.5 s .. 30 s).
        Each agent's stage keeps its own failure; the heartbeat reports the oldest."""
        key, pause = f"{stage}@{id(asyncio.current_task())}", 0.5
        while True:
            try:
                result = await attempt()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                fields = log_fields(exc)
                metrics.CONSUME_FAILURES.labels(stage=stage, error=fields["error"]).inc()
                since, _ = self.failing.get(key, (utcnow(), ""))
                self.failing[key] = (since, f"{stage}: {fields['error']} at {fields['where']}")
                retrying = self._report_failing()
                log.warning("batch_retry", stage=stage, pause_s=pause, retrying_s=round(retrying, 1), **fields)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_S)
                continue
            if key in self.failing:
                since, _ = self.failing.pop(key)
                log.info("batch_recovered", stage=stage, retried_s=round((utcnow() - since).total_seconds(), 1))
                self._report_failing()
            return result

    def _report_failing(self) -> float:
        """Put the oldest ongoing failure in the heartbeat and the gauge; its age in seconds."""
        if not self.failing:
            self.pulse.retrying_since, self.pulse.last_error = None, None
            metrics.RETRYING_SECONDS.set(0)
            return 0.0
        since, error = min(self.failing.values())
        self.pulse.retrying_since, self.pulse.last_error = since, error
        retrying = (utcnow() - since).total_seconds()
        metrics.RETRYING_SECONDS.set(retrying)
        return retrying

    async def handle(self, records: list[RawRecord], decoded: Optional[list] = None) -> BatchResult:
        """Process a batch until it is stored (raises on a transient database error).
        `decoded`: the records decoded already (by `route`, on this loop's thread)."""
        with metrics.BATCH_SECONDS.time():
            result = await self.db(self.pipeline.process_safely, records, decoded)
        metrics.record_batch(records, result)
        self.pulse.last_batch_at = utcnow()
        self.direct.hand(result.outgoing)
        return result

    async def route(self, records: list[RawRecord]) -> tuple[list[RawRecord], list]:
        """Forward valid candidate events keyed by something other than their candidate_id to
        `radar-rekeyed`, keyed right, so a candidate's events meet on one partition; return
        the rest (invalid ones are dead-lettered where they are), and what they decode to.

        The forward is acknowledged by Kafka before the original is; a crash in between
        forwards it twice, and the second copy is skipped as a duplicate event id. A record
        Kafka refuses to forward for good is dead-lettered with that reason."""
        keep, decoded, forwards = [], [], []
        for record in records:
            item = decode_safely(record)
            candidate_id = misrouted_candidate_id(record, item)
            if candidate_id is None:
                keep.append(record)
                decoded.append(item)
                continue
            headers = [(REKEY_HEADER, record.position.encode())]
            if record.key is not None:
                headers.append((ORIGIN_KEY_HEADER, record.key))
            producer = await self.started_producer()
            try:
                future = await producer.send(TOPICS.rekeyed, value=record.value, key=candidate_id.encode(),
                                             headers=headers)
            except Exception as exc:
                if not refused_for_good(exc):
                    raise
                failing = record.failing(f"could not be re-keyed by its candidate_id: {type(exc).__name__}")
                keep.append(failing)
                decoded.append(decode_safely(failing))
                continue
            forwards.append(future)
        for future in forwards:
            await future
        metrics.REKEYED.inc(len(forwards))
        return keep, decoded

    # -- publishing --------------------------------------------------------------

    async def started_producer(self) -> AIOKafkaProducer:
        await self.producer_ready.wait()
        assert self.producer is not None
        return self.producer

    async def relay_forever(self, app: faust.App) -> None:
        """Own the producer (relays and re-key forwards) and publish the outbox until stopped:
        each batch's rows at once (DirectRelay), and every few tenths of a second whatever
        else is unsent and not held (Relay: rows written elsewhere, let go of, or left by a
        worker that died)."""
        self.producer = AIOKafkaProducer(**client_options(self.settings), acks="all",
                                         enable_idempotence=True, linger_ms=2)
        await self.until_done("producer", self.producer.start)
        self.producer_ready.set()
        relay = Relay(self.outbox, self.producer, client_options(self.settings), self.db)
        direct = asyncio.ensure_future(self.direct.run())
        try:
            while not app.should_stop:
                try:
                    sent = await relay.relay_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("relay_failed", **log_fields(exc))
                    sent = 0
                    await asyncio.sleep(1.0)
                if not sent:
                    try:
                        await asyncio.wait_for(self.outbox_ready.wait(), timeout=self.settings.relay_interval_s)
                    except asyncio.TimeoutError:
                        pass
                    self.outbox_ready.clear()
        finally:
            direct.cancel()
            await asyncio.gather(direct, return_exceptions=True)
            await self.producer.stop()

    async def beat_forever(self, app: faust.App) -> None:
        """Write this worker's heartbeat every few seconds on a thread of its own (the
        database thread may be busy with a long batch); forget it on a clean stop."""
        loop = asyncio.get_running_loop()
        try:
            while not app.should_stop:
                try:
                    await loop.run_in_executor(None, beat, self.sessions, self.pulse)
                except Exception as exc:  # the database is down: the batch retry says so too
                    log.warning("heartbeat_failed", **log_fields(exc))
                await asyncio.sleep(HEARTBEAT_EVERY_S)
        finally:
            try:
                await loop.run_in_executor(None, forget, self.sessions, self.worker_id)
            except Exception:
                pass


def _record_safely(event) -> RawRecord:
    """The record as consumed; one whose re-key headers cannot be read is taken as it is
    (on radar-rekeyed, which has no decoder: it is dead-lettered with that reason)."""
    message = event.message
    try:
        return _record(message)
    except Exception:
        return RawRecord(topic=message.topic, partition=message.partition, offset=message.offset,
                         key=message.key, value=message.value, rekeyed=True)


def _record(message) -> RawRecord:
    headers = dict(message.headers or []) if message.topic == TOPICS.rekeyed else {}
    if headers.get(REKEY_HEADER):
        # Decoded and dead-lettered as the record first received: its topic, position and key.
        return from_rekeyed(headers.get(ORIGIN_KEY_HEADER), message.value, headers[REKEY_HEADER].decode())
    return RawRecord(topic=message.topic, partition=message.partition, offset=message.offset,
                     key=message.key, value=message.value)


def faust_credentials(security: KafkaSecurity) -> Optional[faust.types.auth.CredentialsT]:
    """The worker's Kafka credentials in faust's terms (the same settings as every other client)."""
    if security.uses_sasl:
        return faust.SASLCredentials(username=security.sasl_username, password=security.sasl_password,
                                     ssl_context=tls_context(security), mechanism=security.sasl_mechanism)
    if security.uses_tls:
        return faust.SSLCredentials(tls_context(security))
    return None
