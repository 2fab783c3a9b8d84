"""`radar scheduler`: turns time into events on `radar-timers`.

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
import socket
import uuid
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas import TOPICS, TimerEvent
from services.config import Settings
from services.context import as_utc
from services.logs import get_logger
from services.detectors import unsignalled_tenure_window
from services.store.db import make_engine, make_session_factory, upgrade, utcnow
from services.store.models import Candidate, FollowUp, SchedulerLease, SchedulerRun

log = get_logger("radar.scheduler")
LEASE_NAME = "radar-scheduler"
LEASE_SECONDS = 60


def try_lease(sessions: sessionmaker[Session], holder: str, now: Optional[datetime] = None) -> bool:
    """Take or renew the lease; False when another live scheduler holds it."""
    now = now or utcnow()
    with sessions.begin() as session:
        lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
        if lease is None:
            session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=now + timedelta(seconds=LEASE_SECONDS)))
            return True
        if lease.holder != holder and as_utc(lease.expires_at) > now:
            return False
        lease.holder, lease.expires_at = holder, now + timedelta(seconds=LEASE_SECONDS)
        return True


def release_lease(sessions: sessionmaker[Session], holder: str) -> None:
    """On a clean stop, let a standby scheduler take over at once instead of after expiry."""
    with sessions.begin() as session:
        lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
        if lease is not None and lease.holder == holder:
            session.delete(lease)


def due_follow_ups(sessions: sessionmaker[Session], now: datetime, limit: int = 1000) -> list[TimerEvent]:
    with sessions() as session:
        rows = session.scalars(select(FollowUp).where(FollowUp.fired_at.is_(None), FollowUp.due_at <= now)
                               .order_by(FollowUp.due_at).limit(limit)).all()
        return [TimerEvent(event_id=f"revisit-{r.follow_up_id}", candidate_id=r.candidate_id, kind="revisit_due",
                           due_at=r.due_at, detail={"note_event_id": r.note_event_id, "said": r.surface,
                                                    "follow_up_id": r.follow_up_id}) for r in rows]


def mark_fired(sessions: sessionmaker[Session], follow_up_ids: list[str], now: datetime) -> None:
    with sessions.begin() as session:
        for row in session.scalars(select(FollowUp).where(FollowUp.follow_up_id.in_(follow_up_ids))):
            row.fired_at = now


def tenure_checks(sessions: sessionmaker[Session], now: datetime, windows: tuple[int, ...]) -> list[TimerEvent]:
    """Candidates whose time at the current employer entered a window not yet signalled."""
    events = []
    with sessions() as session:
        query = select(Candidate.candidate_id, Candidate.view).where(Candidate.current_company.is_not(None))
        for candidate_id, view in session.execute(query.execution_options(yield_per=1000)):
            profile, facts = (view or {}).get("profile") or {}, (view or {}).get("facts") or {}
            due = unsignalled_tenure_window(profile, facts, now.date(), windows)
            if due is None:
                continue
            company, reached = (profile.get("current") or {}).get("company"), due[1]
            events.append(TimerEvent(event_id=f"tenure-{candidate_id}-{company}-{reached}", candidate_id=candidate_id,
                                     kind="tenure_check", due_at=now, detail={"window_months": reached}))
    return events


class SchedulerRuntime:
    """What the stored jobs need at run time: set once per process by `run_scheduler`."""
    settings: Settings
    sessions: sessionmaker[Session]
    holder: str
    producer = None


async def _send(events: list[TimerEvent]) -> None:
    futures = [await SchedulerRuntime.producer.send(TOPICS.timers, key=e.candidate_id.encode(),
                                                     value=e.model_dump_json().encode()) for e in events]
    await asyncio.gather(*futures)


async def fire_due_follow_ups() -> int:
    """APScheduler job: send `revisit_due` for follow-ups that came due, then mark them fired."""
    if not try_lease(SchedulerRuntime.sessions, SchedulerRuntime.holder):
        return 0
    now = utcnow()
    events = due_follow_ups(SchedulerRuntime.sessions, now)
    if events:
        await _send(events)
        mark_fired(SchedulerRuntime.sessions, [e.detail["follow_up_id"] for e in events], now)
        log.info("follow_ups_fired", count=len(events))
    return len(events)


def daily_run_due(sessions: sessionmaker[Session], job: str, today: str) -> bool:
    with sessions() as session:
        run = session.get(SchedulerRun, job)
        return run is None or run.last_run_on < today


def record_daily_run(sessions: sessionmaker[Session], job: str, today: str) -> None:
    with sessions.begin() as session:
        session.merge(SchedulerRun(job=job, last_run_on=today, updated_at=utcnow()))


async def scan_tenure_windows() -> int:
    """APScheduler job (checked every few minutes, runs once a day): send `tenure_check` for
    candidates entering a move window. Whichever scheduler holds the lease does today's scan."""
    sessions, today = SchedulerRuntime.sessions, utcnow().date().isoformat()
    if not try_lease(sessions, SchedulerRuntime.holder) or not daily_run_due(sessions, "tenure_scan", today):
        return 0
    events = tenure_checks(sessions, utcnow(), SchedulerRuntime.settings.tenure_windows_months)
    if events:
        await _send(events)
        log.info("tenure_checks_sent", count=len(events))
    record_daily_run(sessions, "tenure_scan", today)
    return len(events)


def run_scheduler(settings: Settings) -> None:
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    from aiokafka import AIOKafkaProducer
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from streams.topics import ensure_topics

    upgrade(settings.database_url)
    await ensure_topics(settings)
    SchedulerRuntime.settings = settings
    SchedulerRuntime.sessions = make_session_factory(make_engine(settings.database_url))
    SchedulerRuntime.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    SchedulerRuntime.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
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
    scheduler.start()
    log.info("scheduler_started", holder=SchedulerRuntime.holder)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await SchedulerRuntime.producer.stop()
        release_lease(SchedulerRuntime.sessions, SchedulerRuntime.holder)
