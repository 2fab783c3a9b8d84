"""The scheduler's SQL: its lease, follow-ups that came due, the daily tenure scan.

The scheduler never writes candidate state: what it finds becomes events on radar-timers
(with deterministic event ids), and the worker applies them like any other event.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas import TimerEvent
from schemas.events import as_utc, timer_event_id
from services.adapters.store.db import utcnow
from services.adapters.store.models import Candidate, FollowUp, LeadRow, SchedulerLease, SchedulerRun
from services.domain.context import Facts
from services.domain.detectors import unsignalled_tenure_window

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
            profile = (view or {}).get("profile") or {}
            due = unsignalled_tenure_window(profile, Facts.from_json((view or {}).get("facts")), now.date(), windows)
            if due is None:
                continue
            company, reached = (profile.get("current") or {}).get("company"), due[1]
            events.append(TimerEvent(event_id=timer_event_id("tenure", candidate_id, candidate_id, company, reached),
                                     candidate_id=candidate_id,
                                     kind="tenure_check", due_at=now, detail={"window_months": reached}))
    return events


def daily_run_due(sessions: sessionmaker[Session], job: str, today: str) -> bool:
    with sessions() as session:
        run = session.get(SchedulerRun, job)
        return run is None or run.last_run_on < today


def record_daily_run(sessions: sessionmaker[Session], job: str, today: str) -> None:
    with sessions.begin() as session:
        session.merge(SchedulerRun(job=job, last_run_on=today, updated_at=utcnow()))




def ended_snoozes(sessions: sessionmaker[Session], now: datetime, limit: int = 1000) -> list[TimerEvent]:
    """Leads snoozed until today or before: the worker wakes them (and alerts if still relevant).
    Sent again on every scan until the worker has moved the lead on; the worker skips the
    repeats by their event id."""
    with sessions() as session:
        rows = session.execute(select(LeadRow.role_id, LeadRow.candidate_id, LeadRow.until, LeadRow.updated_at).where(
            LeadRow.status == "snoozed", LeadRow.until <= now.date().isoformat()).order_by(LeadRow.until)
            .limit(limit)).all()
    # The id names the snooze (when it was set), so snoozing again to the same day wakes again.
    return [TimerEvent(event_id=timer_event_id("snooze", candidate_id, role_id, candidate_id, until,
                                                       f"{as_utc(set_at):%Y%m%dT%H%M%S%f}"),
                       candidate_id=candidate_id, kind="snooze_ended", due_at=now,
                       detail={"role_id": role_id, "until": until})
            for role_id, candidate_id, until, set_at in rows]
