"""Rescore after a taxonomy or rules change (`radar rescore`): which candidates to ask the
workers to read again, the requests themselves, and what a run has done."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas import RoleSpec, TimerEvent
from schemas.events import timer_event_id
from services.adapters.store import queries
from services.adapters.store.models import AlertRow, Candidate, MatchState
from services.domain.matcher import Role


def request(run: str, candidate_id: str, now: datetime, role_id: Optional[str] = None) -> dict:
    """The rescore request for one candidate, as the worker reads it from radar-timers."""
    event_id = timer_event_id(f"rescore-{run}", candidate_id, candidate_id)
    detail = {"run": run, **({"role_id": role_id} if role_id else {})}
    return TimerEvent(event_id=event_id, candidate_id=candidate_id, kind="rescore", due_at=now,
                      detail=detail).model_dump(mode="json")


def candidates_to_rescore(sessions: sessionmaker[Session], role_id: Optional[str]) -> list[str]:
    """Every stored candidate; or, for a role, those with a stored pair for it and those the
    store's indexes find for it (its must-haves, places, levels)."""
    with sessions() as session:
        if role_id is None:
            return list(session.scalars(select(Candidate.candidate_id).order_by(Candidate.candidate_id)))
        spec = queries.stored_role(session, role_id)
        if spec is None:
            raise ValueError(f"no role {role_id!r} is stored (deleted, or never put): nothing to rescore for it")
        role = Role.from_spec(RoleSpec.model_validate(spec))
        found = set(session.scalars(select(MatchState.candidate_id).where(MatchState.role_id == role_id)))
        if role.status == "open":
            found.update(queries.candidates_for_role(session, role))
        return sorted(found)


def unprocessed(sessions: sessionmaker[Session], event_ids: list[str]) -> list[str]:
    """The requests the workers have not processed yet."""
    with sessions() as session:
        done = queries.processed_event_ids(session, "TimerEvent", event_ids)
    return [event_id for event_id in event_ids if event_id not in done]


def sent_by_run(sessions: sessionmaker[Session], run: str, since: datetime) -> tuple[int, int]:
    """Alerts and withdrawals the run's requests caused (kept for good in `alerts`)."""
    prefix, counts = f"rescore-{run}-", {"match.alert": 0, "match.withdrawn": 0}
    with sessions() as session:
        rows = session.execute(select(AlertRow.type, AlertRow.payload)
                               .where(AlertRow.created_at >= since - timedelta(minutes=5)))
        for kind, payload in rows:
            if str((payload or {}).get("triggered_by", "")).startswith(prefix) and kind in counts:
                counts[kind] += 1
    return counts["match.alert"], counts["match.withdrawn"]
