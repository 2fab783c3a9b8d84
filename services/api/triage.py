"""Triage: lead changes (published to lead-events), the inbox, roles with their leads, a
lead's history, candidate search, the funnel, alerts held back by feedback."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal, Optional

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import desc, func, select

from schemas.events import LEAD_STATUSES, as_utc
from services.adapters.store.models import HeldBackRow
from services.api.auth import RECRUITER, VIEWER
from services.api.changes import publish_lead_change
from services.api.deps import Api, Text, api, checked_id, errors
from services.app import triage
from services.app.funnel import funnel as funnel_of
from services.domain.access import Principal

router = APIRouter(tags=["triage"])
# A lead status, or `all`: anything else is one clear 422.
Status = Optional[Literal[LEAD_STATUSES + ("all",)]]
RoleStatus = Optional[Literal["open", "paused", "closed"]]


class LeadChangeAccepted(BaseModel):
    accepted: bool
    event_id: str
    status: str


@router.post("/roles/{role_id}/candidates/{candidate_id}/status", status_code=202, response_model=LeadChangeAccepted,
             responses=errors(404, 409, 503))
async def change_status(role_id: str, candidate_id: str, body: dict[str, Any] = Body(...),
                        ctx: Api = Depends(api), who: Principal = RECRUITER) -> dict[str, Any]:
    role_id, candidate_id = checked_id("role_id", role_id), checked_id("candidate_id", candidate_id)
    try:
        event = await publish_lead_change(ctx, who, role_id, candidate_id, body)
    except triage.NoSuchLead as exc:
        raise HTTPException(404, str(exc)) from None
    except triage.NotAllowed as exc:
        raise HTTPException(409, str(exc)) from None
    except triage.TriageError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"accepted": True, "event_id": event["event_id"], "status": event["status"]}


@router.get("/roles/{role_id}/candidates/{candidate_id}/lead", responses=errors(404))
def lead(role_id: str, candidate_id: str, ctx: Api = Depends(api), who: Principal = VIEWER) -> dict[str, Any]:
    found = triage.lead(ctx.sessions, checked_id("role_id", role_id), checked_id("candidate_id", candidate_id))
    if found is None:
        raise HTTPException(404, f"no lead for role {role_id!r} and candidate {candidate_id!r}")
    return found


@router.get("/inbox")
def inbox(owner: Optional[Text] = Query(None, max_length=200), role: Optional[Text] = Query(None, max_length=200),
          status: Status = Query("new"), cursor: Optional[str] = Query(None, max_length=2000),
          limit: int = Query(50, ge=1, le=200), ctx: Api = Depends(api), who: Principal = VIEWER) -> dict[str, Any]:
    return _paged(lambda: triage.inbox(ctx.sessions, _lead_status(status), role, owner, cursor, limit))


@router.get("/roles")
def roles(status: RoleStatus = None, owner: Optional[Text] = Query(None, max_length=200),
          ctx: Api = Depends(api), who: Principal = VIEWER) -> list[dict[str, Any]]:
    return triage.roles(ctx.sessions, status, owner)


@router.get("/roles/{role_id}/leads", responses=errors(404))
def role_leads(role_id: str, status: Status = None,
               cursor: Optional[str] = Query(None, max_length=2000), limit: int = Query(50, ge=1, le=200),
               ctx: Api = Depends(api), who: Principal = VIEWER) -> dict[str, Any]:
    role_id = checked_id("role_id", role_id)
    if not triage.role_exists(ctx.sessions, role_id):
        raise HTTPException(404, f"no role {role_id!r}")
    return _paged(lambda: triage.inbox(ctx.sessions, _lead_status(status), role_id, None, cursor, limit))


def _lead_status(status: Optional[str]) -> Optional[str]:
    return None if status in (None, "all") else status


@router.get("/candidates")
def candidates(skill: Optional[str] = Query(None, max_length=100), place: Optional[str] = Query(None, max_length=120),
               min_readiness: Optional[float] = Query(None, ge=0, le=1),
               role: Optional[Text] = Query(None, max_length=200), cursor: Optional[str] = Query(None, max_length=2000),
               limit: int = Query(50, ge=1, le=200), ctx: Api = Depends(api),
               who: Principal = VIEWER) -> dict[str, Any]:
    return _paged(lambda: triage.search_candidates(ctx.sessions, skill, place, min_readiness, role, cursor, limit))


@router.get("/funnel")
def funnel(role: Optional[Text] = Query(None, max_length=200), owner: Optional[Text] = Query(None, max_length=200),
           since: Optional[date] = None, until: Optional[date] = None, ctx: Api = Depends(api),
           who: Principal = VIEWER) -> dict[str, Any]:
    """Leads alerted from `since` to `until`, both days included."""
    if since and until and since > until:
        raise HTTPException(422, f"since ({since}) is after until ({until})")
    return funnel_of(ctx.sessions, role, owner, _start(since), _start(_next_day(until)))


@router.get("/held-back")
def held_back(role: Optional[Text] = Query(None, max_length=200), limit: int = Query(100, ge=1, le=1000),
              ctx: Api = Depends(api), who: Principal = VIEWER) -> dict[str, Any]:
    """Alerts that did not go out because of a lead's feedback: how many, why, the latest."""
    with ctx.sessions() as session:
        where = [HeldBackRow.role_id == role] if role else []
        counts = dict(session.execute(select(HeldBackRow.reason, func.count()).where(*where)
                                      .group_by(HeldBackRow.reason)).all())
        rows = session.scalars(select(HeldBackRow).where(*where).order_by(desc(HeldBackRow.id)).limit(limit)).all()
    return {"total": sum(counts.values()), "by_reason": counts,
            "latest": [{"role_id": r.role_id, "candidate_id": r.candidate_id, "alert_id": r.alert_id,
                        "reason": r.reason, "event_id": r.event_id, "at": as_utc(r.created_at)} for r in rows]}


def _paged(read):
    try:
        return read()
    except triage.TriageError as exc:
        raise HTTPException(422, str(exc)) from None


def _next_day(day: Optional[date]) -> Optional[date]:
    """The day after, where the funnel's window ends; none after the last day there is."""
    return None if day is None or day == date.max else day + timedelta(days=1)


def _start(day: Optional[date]) -> Optional[datetime]:
    return None if day is None else as_utc(datetime.combine(day, datetime.min.time()))
