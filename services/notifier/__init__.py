"""`radar notifier`: a subscriber of match-alerts and candidate-signals like any other (its
own consumer group), delivering to subscriptions: signed webhooks, Slack, e-mail.

Wiring only: consuming, planning, claiming and sending are loops here; what they do is in
services.app.notifier. Offsets are committed only after the consumed messages' deliveries
are written, so nothing is lost; a delivery is marked after each send, so a notifier killed
mid-send repeats at most the sends it had in flight (each with its X-Radar-Delivery id).
"""
from __future__ import annotations

import asyncio
import json
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, TypeVar

from aiokafka import AIOKafkaConsumer

from services import metrics
from services.adapters.delivery.senders import Senders, SmtpSettings
from services.adapters.kafka.client import client_options
from services.adapters.kafka.topics import ensure_topics
from services.adapters.probes import ProbeServer, broker_check, database_check
from services.adapters.store.db import make_engine, make_session_factory, prepare_schema, utcnow
from services.adapters.store.notifications import Job, delivery_stats
from services.app.notifier import Notifier, send
from services.config import Settings
from services.domain.notify import Outcome
from services.errors import log_fields
from services.logs import get_logger

log = get_logger("radar.notifier")
T = TypeVar("T")
RENEW_EVERY_S = 10.0


def run_notifier(settings: Settings) -> None:
    asyncio.run(NotifierProcess(settings).run())


class NotifierProcess:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_session_factory(self.engine)
        self.core = Notifier(self.sessions, settings.public_url, lease_s=max(30.0, 3 * RENEW_EVERY_S))
        self.db_thread = ThreadPoolExecutor(max_workers=2, thread_name_prefix="radar-notifier-db")
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()
        self.in_flight: dict[int, Job] = {}
        self.to_record: list[tuple[Job, Outcome, asyncio.Future]] = []
        self.recorder: asyncio.Task | None = None
        self.senders: Senders | None = None
        self.subscriptions: dict[str, Any] = {}

    async def db(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, fn, *args)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        s = self.settings
        topics = s.topics
        consumer = AIOKafkaConsumer(topics.match_alerts, topics.candidate_signals, **client_options(s),
                                    group_id=f"{s.app_id}-notifier", enable_auto_commit=False,
                                    auto_offset_reset="earliest", session_timeout_ms=int(s.session_timeout_s * 1000),
                                    heartbeat_interval_ms=int(s.heartbeat_interval_s * 1000))
        probes = await self.serve_probes(consumer)  # first: alive while it waits for its schema and broker
        await asyncio.to_thread(prepare_schema, s)
        await ensure_topics(self.settings)
        senders = self.senders = Senders(SmtpSettings(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password,
                                                      s.smtp_from, s.smtp_starttls), timeout_s=s.notifier_timeout_s,
                                         per_target=s.notifier_per_target)
        await consumer.start()
        log.info("notifier_started", group=f"{s.app_id}-notifier")
        tasks = [asyncio.create_task(coro) for coro in (self.consume_forever(consumer), self.deliver_forever(senders),
                                                        self.renew_forever(), self.observe_forever())]
        try:
            await self.stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await consumer.stop()
            await senders.close()
            if probes:
                await probes.stop()

    async def serve_probes(self, consumer: AIOKafkaConsumer) -> Optional[ProbeServer]:
        """/livez, /readyz and /metrics on RADAR_NOTIFIER_METRICS_PORT."""
        if not self.settings.notifier_metrics_port:
            return None

        async def partitions() -> Optional[str]:
            return None if consumer.assignment() else "no partitions of match-alerts assigned yet"

        server = ProbeServer(self.settings.api_host, self.settings.notifier_metrics_port,
                             {"database": database_check(self.engine),
                              "broker": broker_check(self.settings), "partitions": partitions})
        await server.start()
        return server

    # -- consuming: plan deliveries, then commit ------------------------------------------

    async def consume_forever(self, consumer: AIOKafkaConsumer) -> None:
        topics = self.settings.topics
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            messages = [m for tp, records in batch.items() for r in records
                        if (m := _wanted(tp.topic == topics.candidate_signals, r.value)) is not None]
            if messages:
                room = max(0, self.settings.notifier_max_in_flight - len(self.in_flight))
                _, jobs = await self.until_done(lambda: self.db(self.core.plan_and_claim, messages, room))
                self.start(jobs)  # due now: sent at once, claimed when written
                self.wake.set()
            if batch:
                await self.until_done(consumer.commit)

    async def until_done(self, attempt: Callable[[], Any]) -> Any:
        pause = 0.5
        while True:
            try:
                return await attempt()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notifier_retry", pause_s=pause, **log_fields(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    # -- delivering: claim what is due, send each on its own -------------------------------

    async def deliver_forever(self, senders: Senders) -> None:
        """Claim due deliveries in batches while there is room, and send each on its own."""
        limit = self.settings.notifier_max_in_flight
        while True:
            room = limit - len(self.in_flight)
            jobs = []
            if room >= max(1, limit // 4) or not self.in_flight:  # claim in batches, not per freed slot
                try:
                    jobs = await self.db(self.core.claim, min(room, 200))
                except Exception as exc:
                    log.warning("notifier_claim_failed", **log_fields(exc))
            self.start(jobs)
            if not jobs or len(jobs) < min(room, 200):  # nothing more due now, or no room: wait
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=0.5)
                except asyncio.TimeoutError:
                    pass
                self.wake.clear()

    def start(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.in_flight[job.id] = job
            asyncio.create_task(self.deliver(job, self.senders))

    async def deliver(self, job: Job, senders: Senders) -> None:
        try:
            subscription = await self.subscription(job.subscription_id)
            if subscription is None:
                outcome = Outcome(False, retry=False, reason="the subscription was removed")
            else:
                digest = await self.db(self.core.digest, job) if job.kind == "digest" else None
                outcome = await attempt(job, subscription, senders, digest)
            retry_at = await self.recorded(job, outcome)
            self.observe(job, outcome, retry_at)
        except Exception as exc:  # a defect: the delivery stays claimed, and is tried again after its lease
            log.error("delivery_failed", delivery=job.id, **log_fields(exc))
        finally:
            self.in_flight.pop(job.id, None)
            self.wake.set()  # room for more

    async def recorded(self, job: Job, outcome: Outcome):
        """Mark an attempt, together with the others that finish meanwhile (one transaction for
        all of them); returns when it will be tried again."""
        done = asyncio.get_running_loop().create_future()
        self.to_record.append((job, outcome, done))
        if self.recorder is None or self.recorder.done():
            self.recorder = asyncio.create_task(self.record_pending())
        return await done

    async def record_pending(self) -> None:
        while self.to_record:
            await asyncio.sleep(0.005)  # let the sends finishing now join this transaction
            batch, self.to_record = self.to_record, []
            retries = await self.until_done(lambda: self.db(self.core.record_many, [(j, o) for j, o, _ in batch]))
            for (_, _, done), retry_at in zip(batch, retries):
                done.set_result(retry_at)

    async def subscription(self, subscription_id: str):
        if subscription_id not in self.subscriptions:
            self.subscriptions = await self.db(self.core.subscriptions)
        return self.subscriptions.get(subscription_id)

    def observe(self, job: Job, outcome: Outcome, retry_at) -> None:
        kind = "delivered" if outcome.delivered else ("retry" if retry_at else "failed")
        metrics.DELIVERIES.labels(channel=job.channel, outcome=kind).inc()
        if outcome.delivered and job.kind == "instant" and job.message_created_at:
            metrics.DELIVERY_LATENCY.observe(max(0.0, (utcnow() - job.message_created_at).total_seconds()))
        if not outcome.delivered:
            log.info("delivery_not_done", delivery=job.id, subscription=job.subscription_id, outcome=kind,
                     reason=outcome.reason, retry_at=retry_at and retry_at.isoformat())

    async def renew_forever(self) -> None:
        """Keep the claims of deliveries still in flight (a dead notifier's run out)."""
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            if self.in_flight:
                try:
                    await self.db(self.core.renew, list(self.in_flight))
                except Exception as exc:
                    log.warning("notifier_renew_failed", **log_fields(exc))

    async def observe_forever(self) -> None:
        """The backlog gauges, and a fresh view of the subscriptions, every few seconds."""
        while True:
            try:
                stats = await self.db(_stats, self.sessions)
                metrics.RETRY_BACKLOG.set(stats["retrying"])
                oldest = stats["oldest_pending"]
                metrics.OLDEST_PENDING.set(0 if oldest is None else (utcnow() - oldest).total_seconds())
                self.subscriptions = await self.db(self.core.subscriptions)
            except Exception as exc:
                log.warning("notifier_observe_failed", **log_fields(exc))
            await asyncio.sleep(5.0)


def _stats(sessions) -> dict[str, Any]:
    with sessions() as session:
        return delivery_stats(session)


def _wanted(from_signals: bool, value: bytes | None) -> dict[str, Any] | None:
    """Alerts and withdrawals from match-alerts; from candidate-signals only revisit_due."""
    if value is None:
        return None
    try:
        message = json.loads(value)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if from_signals:
        return message if message.get("type") == "revisit_due" and message.get("signal_id") else None
    return message if message.get("type") in ("match.alert", "match.withdrawn") and message.get("alert_id") else None


async def attempt(job: Job, subscription, senders: Senders, digest) -> Outcome:
    """Render and send. A message that cannot be rendered or sent for a reason no retry
    mends (a defect) fails visibly: `radar deliveries --failed` shows it, retry after a fix."""
    try:
        return await send(job, subscription, senders, digest)
    except Exception as exc:
        log.error("delivery_defect", delivery=job.id, **log_fields(exc))
        return Outcome(False, retry=False, reason=f"could not be sent: {type(exc).__name__} in the notifier "
                                                  "(see its log); `radar deliveries retry` after a fix")
