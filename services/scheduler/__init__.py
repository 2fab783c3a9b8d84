"""`radar scheduler`: turns time into events on `radar-timers` (wiring; its SQL is in
services.adapters.store.scheduling).

APScheduler keeps its jobs in the database (SQLAlchemyJobStore), so a restart neither
forgets them nor adds them twice (fixed job ids, replace_existing). Each run first takes
a lease in `scheduler_lease`: with two schedulers started, only the lease holder fires.
What a job sends has a deterministic event_id, and the worker skips ids it has seen, so
a crash between sending and marking a follow-up fired cannot produce a second signal.
The scheduler never writes candidate state itself.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
import uuid
from typing import Optional

from sqlalchemy.orm import Session, sessionmaker

from schemas import TimerEvent
from services import metrics
from services.adapters.kafka.client import client_options
from services.adapters.probes import ProbeServer, broker_check, database_check
from services.adapters.store.db import make_engine, make_session_factory, prepare_schema, utcnow
from services.adapters.store.retention import purge_dead_letters, purge_note_text
from services.adapters.store.scheduling import (
    daily_run_due,
    due_follow_ups,
    ended_snoozes,
    mark_fired,
    record_daily_run,
    release_lease,
    tenure_checks,
    try_lease,
)
from services.config import Settings
from services.logs import get_logger

log = get_logger("radar.scheduler")


class SchedulerRuntime:
    """What the stored jobs need at run time: set once per process by `run_scheduler`."""
    settings: Settings
    sessions: sessionmaker[Session]
    holder: str
    producer = None
    scheduler = None  # APScheduler's, once started
    last_run = time.monotonic()  # any job, on this process: the probes and the gauge read it


def _ran() -> None:
    SchedulerRuntime.last_run = time.monotonic()


async def _send(events: list[TimerEvent]) -> None:
    futures = [await SchedulerRuntime.producer.send(SchedulerRuntime.settings.topics.timers, key=e.candidate_id.encode(),
                                                     value=e.model_dump_json().encode()) for e in events]
    await asyncio.gather(*futures)


async def fire_due_follow_ups() -> int:
    """APScheduler job: send `revisit_due` for follow-ups that came due, then mark them fired;
    and `snooze_ended` for leads whose snooze is over."""
    _ran()
    if not try_lease(SchedulerRuntime.sessions, SchedulerRuntime.holder):
        return 0
    now = utcnow()
    events = due_follow_ups(SchedulerRuntime.sessions, now)
    if events:
        await _send(events)
        mark_fired(SchedulerRuntime.sessions, [e.detail["follow_up_id"] for e in events], now)
        log.info("follow_ups_fired", count=len(events))
    woken = ended_snoozes(SchedulerRuntime.sessions, now)
    if woken:
        await _send(woken)
        log.info("snoozes_ended", count=len(woken))
    return len(events) + len(woken)


async def scan_tenure_windows() -> int:
    """APScheduler job (checked every few minutes, runs once a day): send `tenure_check` for
    candidates entering a move window. Whichever scheduler holds the lease does today's scan."""
    _ran()
    sessions, today = SchedulerRuntime.sessions, utcnow().date().isoformat()
    if not try_lease(sessions, SchedulerRuntime.holder) or not daily_run_due(sessions, "tenure_scan", today):
        return 0
    events = tenure_checks(sessions, utcnow(), SchedulerRuntime.settings.tenure_windows_months)
    if events:
        await _send(events)
        log.info("tenure_checks_sent", count=len(events))
    record_daily_run(sessions, "tenure_scan", today)
    return len(events)


async def apply_retention() -> int:
    """APScheduler job (checked every few minutes, runs once a day): note text and dead letters
    past their retention (RADAR_NOTE_TEXT_RETENTION_DAYS, RADAR_DEAD_LETTER_RETENTION_DAYS)."""
    _ran()
    sessions, settings, today = SchedulerRuntime.sessions, SchedulerRuntime.settings, utcnow().date().isoformat()
    if not try_lease(sessions, SchedulerRuntime.holder) or not daily_run_due(sessions, "retention", today):
        return 0
    notes = await asyncio.to_thread(purge_note_text, sessions, utcnow(), settings.note_text_retention_days)
    letters = await asyncio.to_thread(purge_dead_letters, sessions, settings.topics.dead_letters, utcnow(),
                                      settings.dead_letter_retention_days)
    metrics.RETENTION_PURGED.labels(what="note_text").inc(notes)
    metrics.RETENTION_PURGED.labels(what="dead_letters").inc(letters)
    record_daily_run(sessions, "retention", today)
    log.info("retention_applied", note_texts=notes, dead_letters=letters)
    return notes + letters


def run_scheduler(settings: Settings) -> None:
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    from aiokafka import AIOKafkaProducer
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from services.adapters.kafka.topics import ensure_topics

    engine = make_engine(settings.database_url)
    probes = await _serve_probes(settings, engine)  # first: a pod waiting for its schema is alive
    await asyncio.to_thread(prepare_schema, settings)
    await ensure_topics(settings)
    SchedulerRuntime.settings = settings
    SchedulerRuntime.sessions = make_session_factory(engine)
    SchedulerRuntime.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    SchedulerRuntime.producer = AIOKafkaProducer(**client_options(settings), acks="all",
                                                 enable_idempotence=True)
    await SchedulerRuntime.producer.start()
    scheduler = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(url=settings.database_url,
                                                                          tablename="apscheduler_jobs")},
                                 job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job("services.scheduler:fire_due_follow_ups", "interval", id="fire_due_follow_ups",
                      seconds=settings.scheduler_scan_interval_s, replace_existing=True, next_run_time=utcnow())
    scheduler.add_job("services.scheduler:scan_tenure_windows", "interval", id="scan_tenure_windows",
                      seconds=max(settings.scheduler_scan_interval_s, 1) * 10, replace_existing=True,
                      next_run_time=utcnow())
    scheduler.add_job("services.scheduler:apply_retention", "interval", id="apply_retention",
                      seconds=max(settings.scheduler_scan_interval_s, 1) * 10, replace_existing=True,
                      next_run_time=utcnow())
    scheduler.start()
    SchedulerRuntime.scheduler = scheduler
    SchedulerRuntime.last_run = time.monotonic()
    log.info("scheduler_started", holder=SchedulerRuntime.holder)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        if probes:
            await probes.stop()
        await SchedulerRuntime.producer.stop()
        release_lease(SchedulerRuntime.sessions, SchedulerRuntime.holder)


async def _serve_probes(settings: Settings, engine) -> Optional[ProbeServer]:
    """/livez, /readyz (database, broker, jobs running on time) and /metrics on RADAR_SCHEDULER_PORT."""
    metrics.SCHEDULER_LAST_RUN_AGE.set_function(lambda: time.monotonic() - SchedulerRuntime.last_run)
    if not settings.scheduler_port:
        return None
    late_after = 3 * max(settings.scheduler_scan_interval_s, 1) + 30

    async def jobs() -> Optional[str]:
        age = time.monotonic() - SchedulerRuntime.last_run
        if SchedulerRuntime.scheduler is None or not SchedulerRuntime.scheduler.running:
            return "the job scheduler is not running (yet)"
        return None if age < late_after else f"no job has run for {age:.0f} s"

    server = ProbeServer(settings.api_host, settings.scheduler_port,
                         {"database": database_check(engine), "broker": broker_check(settings),
                          "jobs": jobs})
    await server.start()
    return server
