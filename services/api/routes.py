"""Alerts, candidates, shortlists and role changes (published to role-specs)."""
from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from schemas import Profile, ProfileEvent
from schemas.topics import LOGICAL
from services.adapters.store.db import utcnow
from services.api.auth import ADMIN, RECRUITER, VIEWER, wants_page
from services.api.changes import publish_role_change
from services.api.deps import Api, api, checked_id, errors
from services.api.web.pages import candidate_page
from services.app.access import record, record_erasure
from services.app.read_models import candidate_context, candidate_known, recent_alerts, shortlist
from services.app.role_admin import RoleAdminError, RoleNotFound
from services.domain.access import Principal

router = APIRouter()


class Accepted(BaseModel):
    """A change taken: published, applied by the worker in order."""
    accepted: bool
    event_id: str


class ErasureAccepted(BaseModel):
    accepted: bool
    candidate_id: str


class RoleChangeAccepted(BaseModel):
    accepted: bool
    role_id: str
    action: str


@router.get("/alerts", tags=["alerts"])
def alerts(limit: int = Query(50, ge=1, le=1000), ctx: Api = Depends(api), who: Principal = VIEWER
           ) -> list[dict[str, Any]]:
    return recent_alerts(ctx.sessions, limit)


@router.get("/candidates/{candidate_id}", tags=["candidates"], responses=errors(404))
def candidate(candidate_id: str, request: Request, ctx: Api = Depends(api),
              who: Principal = VIEWER) -> dict[str, Any]:
    """The candidate's context; a browser gets the candidate page (services.api.web)."""
    candidate_id = checked_id("candidate_id", candidate_id)
    context = candidate_context(ctx.sessions, candidate_id)
    if context is None:
        raise HTTPException(404, f"no candidate {candidate_id!r}")
    if wants_page(request):
        return candidate_page(request, context)
    return context


@router.post("/candidates/{candidate_id}/do-not-contact", status_code=202, tags=["candidates"], response_model=Accepted,
             responses=errors(503))
async def do_not_contact(candidate_id: str, value: bool = Query(True), ctx: Api = Depends(api),
                         who: Principal = RECRUITER) -> dict[str, Any]:
    event = ProfileEvent(event_id=f"dnc-{uuid.uuid4()}", candidate_id=checked_id("candidate_id", candidate_id),
                         source="radar-api", occurred_at=utcnow(), profile=Profile(do_not_contact=value))
    await ctx.send(LOGICAL.profile_events, [(event.candidate_id, event.model_dump(mode="json", exclude_none=True))])
    record(ctx.sessions, who, "candidate.do_not_contact", event.candidate_id, {"value": value, "event_id": event.event_id})
    return {"accepted": True, "event_id": event.event_id}


@router.delete("/candidates/{candidate_id}", status_code=202, tags=["candidates"], response_model=ErasureAccepted,
               responses=errors(404, 503))
async def erase(candidate_id: str, force: bool = Query(False), ctx: Api = Depends(api),
                who: Principal = ADMIN) -> dict[str, Any]:
    """Erase a candidate on request: a tombstone on profile-events, applied by the worker in
    order with the candidate's other events; then GET /candidates/{id} answers 404. An id the
    store does not know is refused (a typo would bar a future candidate) unless `force=true`
    (events about them may still be on their way)."""
    candidate_id = checked_id("candidate_id", candidate_id)
    if not force and not candidate_known(ctx.sessions, candidate_id):
        raise HTTPException(404, f"no candidate {candidate_id!r} is stored; to bar the id anyway (events about "
                                 "them still on their way), add ?force=true")
    await ctx.send(LOGICAL.profile_events, [(candidate_id, None)])
    record_erasure(ctx.sessions, who, candidate_id)
    return {"accepted": True, "candidate_id": candidate_id}


@router.get("/roles/{role_id}/shortlist", tags=["roles"], responses=errors(404))
def role_shortlist(role_id: str, limit: int = Query(10, ge=1, le=200), ctx: Api = Depends(api),
                   who: Principal = VIEWER) -> dict[str, Any]:
    result = shortlist(ctx.sessions, checked_id("role_id", role_id), limit)
    if result is None:
        raise HTTPException(404, f"no role {role_id!r}")
    return result


@router.put("/roles/{role_id}", status_code=202, tags=["roles"], response_model=RoleChangeAccepted,
            responses=errors(503))
async def put_role(role_id: str, spec: dict[str, Any] = Body(...), ctx: Api = Depends(api),
                   who: Principal = ADMIN) -> dict[str, Any]:
    role_id = checked_id("role_id", role_id)
    return await _role_action(ctx, who, "put", role_id, dict(spec, role_id=role_id))


@router.post("/roles/{role_id}/{action}", status_code=202, tags=["roles"], response_model=RoleChangeAccepted,
             responses=errors(404, 503))
async def role_action(role_id: str, action: str, ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    if action not in ("pause", "close", "reopen"):
        raise HTTPException(404, "unknown action: pause, close or reopen")
    return await _role_action(ctx, who, action, checked_id("role_id", role_id))


@router.delete("/roles/{role_id}", status_code=202, tags=["roles"], response_model=RoleChangeAccepted,
               responses=errors(404, 503))
async def delete_role(role_id: str, ctx: Api = Depends(api), who: Principal = ADMIN) -> dict[str, Any]:
    return await _role_action(ctx, who, "delete", checked_id("role_id", role_id))


async def _role_action(ctx: Api, who: Principal, action: str, role_id: str, spec=None) -> dict[str, Any]:
    try:
        key, _ = await publish_role_change(ctx, who, action, role_id, spec)
    except RoleNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except RoleAdminError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"accepted": True, "role_id": key, "action": action}
