"""Worker heartbeats: each `radar worker` writes, every few seconds, that it is alive,
when it last committed a batch, and since when its current batch has been retrying.
Any API process reads them for /health and /metrics (the worker runs elsewhere)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from services.adapters.store.db import utcnow
from services.adapters.store.models import WorkerHeartbeat

GONE_AFTER = timedelta(minutes=15)  # a worker silent this long was scaled away: no longer reported


@dataclass
class WorkerPulse:
    """What one worker process knows of its own progress (kept in memory, written by `beat`)."""
    worker_id: str
    started_at: datetime
    last_batch_at: Optional[datetime] = None
    retrying_since: Optional[datetime] = None
    last_error: Optional[str] = None


def beat(sessions: sessionmaker[Session], pulse: WorkerPulse) -> None:
    with sessions.begin() as session:
        session.merge(WorkerHeartbeat(worker_id=pulse.worker_id, started_at=pulse.started_at, beat_at=utcnow(),
                                      last_batch_at=pulse.last_batch_at, retrying_since=pulse.retrying_since,
                                      last_error=(pulse.last_error or None) and pulse.last_error[:300]))


def forget(sessions: sessionmaker[Session], worker_id: str) -> None:
    """On a clean stop: a worker that left on purpose is not a silent one."""
    with sessions.begin() as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))


def worker_health(session: Session, stall_after_s: float, now: Optional[datetime] = None) -> list[dict[str, Any]]:
    """Every worker heard from in the last quarter hour, with `problem` set when its batch
    has been retrying, or it has been silent, for longer than `stall_after_s`."""
    now = now or utcnow()
    stall = timedelta(seconds=stall_after_s)
    workers = []
    for row in session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.worker_id)):
        beat_at = as_utc(row.beat_at)
        if now - beat_at > GONE_AFTER:
            continue
        retrying = as_utc(row.retrying_since)
        problem = None
        if retrying is not None and now - retrying > stall:
            problem = f"batch retrying for {int((now - retrying).total_seconds())} s: {row.last_error or 'unknown'}"
        elif now - beat_at > stall:
            problem = f"silent for {int((now - beat_at).total_seconds())} s"
        last_batch = as_utc(row.last_batch_at)
        workers.append({"worker_id": row.worker_id, "problem": problem,
                        "retrying_s": (now - retrying).total_seconds() if retrying else 0.0,
                        "last_batch_age_s": (now - last_batch).total_seconds() if last_batch else None,
                        "silent_s": (now - beat_at).total_seconds()})
    return workers
