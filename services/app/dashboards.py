"""What the overview and operations pages read: alerts per day, signals by type, the funnel
across roles; the outbox, dead letters by reason, deliveries and workers."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from schemas.topics import Topics
from services.adapters.store.heartbeats import worker_health
from services.adapters.store.models import (
    AlertRow,
    SchedulerLease,
    SchedulerRun,
    Signal,
    SubscriptionRow,
)
from services.adapters.store.notifications import delivery_stats
from services.adapters.store.outbox import unsent
from services.app.dead_letters import list_dead_letters
from services.app.funnel import funnel

DAYS = 30
DEAD_LETTERS_READ = 1000  # the newest, grouped by reason


def overview(sessions: sessionmaker[Session], today: date) -> dict[str, Any]:
    """The last DAYS days: alerts per day (every day, zeros too), signals by type, the funnel."""
    first = today - timedelta(days=DAYS - 1)
    since = as_utc(datetime.combine(first, datetime.min.time()))
    with sessions() as session:
        per_day = dict(session.execute(
            select(func.date(AlertRow.created_at), func.count()).where(
                AlertRow.created_at >= since, AlertRow.type == "match.alert").group_by(func.date(AlertRow.created_at))
        ).all())
        signals = session.execute(select(Signal.type, func.count()).where(Signal.detected_at >= since)
                                  .group_by(Signal.type).order_by(func.count().desc())).all()
    counts = {str(day): count for day, count in per_day.items()}
    days = [first + timedelta(days=n) for n in range(DAYS)]
    return {"alerts_per_day": [(day, counts.get(day.isoformat(), 0)) for day in days],
            "signals_by_type": [(kind, count) for kind, count in signals],
            "funnel": funnel(sessions, since=since)}


def operations(sessions: sessionmaker[Session], topics: Topics, stall_after_s: float) -> dict[str, Any]:
    """The store's side of the pipeline's health (the broker's lag is read by the caller)."""
    letters = list_dead_letters(sessions, topics, limit=DEAD_LETTERS_READ)
    with sessions() as session:
        backlog, oldest = unsent(session)
        deliveries = delivery_stats(session)
        workers = worker_health(session, stall_after_s)
        lease = session.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)).first()
        runs = session.execute(select(SchedulerRun.job, SchedulerRun.updated_at).order_by(SchedulerRun.job)).all()
        email = session.scalar(select(func.count()).select_from(SubscriptionRow).where(
            SubscriptionRow.channel == "email")) or 0
    return {"outbox_backlog": backlog, "outbox_oldest": oldest, "deliveries": deliveries,
            "workers": workers, "email_subscriptions": email,
            "scheduler": {"holder": lease.holder if lease else None,
                          "lease_until": as_utc(lease.expires_at) if lease else None,
                          "runs": [(job, as_utc(at)) for job, at in runs]}, "dead_letters_by_reason": _by_reason(letters), "dead_letters_latest": letters[:10],
            "dead_letters_read": len(letters)}


def _by_reason(letters) -> list[tuple[str, int]]:
    """Dead letters grouped by what was wrong: the error up to its first detail."""
    return Counter(reason_of(letter.error) for letter in letters).most_common()


def reason_of(error: str) -> str:
    """'schema validation failed: candidate_id: at most 200 …' -> 'schema validation failed: candidate_id'."""
    parts = [part.strip() for part in error.split(":")]
    return ": ".join(parts[:2])[:120] if len(parts) > 2 else error[:120]
