"""The pages: the inbox (with new alerts pushed as they come), a role, a candidate, and the
one-click lead actions. They read through the same use cases as the JSON API and change
leads the same way: a lead event on `lead-events`, applied by the worker."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any, AsyncIterator, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from schemas.events import LEAD_STATUSES
from schemas.topics import LOGICAL
from services.adapters.store import queries
from services.api.auth import RECRUITER, VIEWER
from services.api.deps import Api, api, checked_id
from services.api.web.charts import funnel_bars
from services.api.web.render import SECURITY_HEADERS, fragment, page
from services.api.web.session import form, safe_next
from services.app import triage
from services.app.access import record
from services.app.funnel import funnel
from services.app.read_models import shortlist
from services.domain.access import Principal

router = APIRouter(include_in_schema=False)
INBOX_SIZE = 100
PUSH_EVERY_S = 2.0


@router.get("/", response_class=HTMLResponse)
def inbox_page(request: Request, status: str = "new", sent: Optional[str] = None,
               cursor: Optional[str] = Query(None, max_length=2000), ctx: Api = Depends(api),
               who: Principal = VIEWER) -> Response:
    status = status if status in LEAD_STATUSES + ("all",) else "new"
    try:
        found = triage.inbox(ctx.sessions, None if status == "all" else status, None, None, cursor, INBOX_SIZE)
    except triage.TriageError as exc:
        raise HTTPException(422, str(exc)) from None
    leads = found["leads"]
    newest = max((lead["created_at"] for lead in leads), default=None)
    return page(request, "inbox.html", by_role=_by_role(leads), status=status, total=len(leads),
                newest=newest.isoformat() if newest else "", sent=_sent(sent),
                back="/" if status == "new" else f"/?status={status}", older=found["next_cursor"],
                first_page=cursor is None)


@router.get("/ui/inbox/events")
async def inbox_events(request: Request, since: str = "", ctx: Api = Depends(api),
                       who: Principal = VIEWER) -> StreamingResponse:
    """Server-sent events: each new lead as the card the inbox shows, as it arrives."""
    return StreamingResponse(_new_leads(request, ctx, since, who), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _new_leads(request: Request, ctx: Api, since: str, who: Principal) -> AsyncIterator[str]:
    seen_up_to = since
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        leads = await asyncio.to_thread(triage.inbox, ctx.sessions, "new", None, None, None, 20)
        fresh = [lead for lead in leads["leads"] if lead["created_at"].isoformat() > seen_up_to]
        for lead in reversed(fresh):  # oldest first: each goes on top
            html = fragment("lead_card.html", lead=lead, who=who, back="/")
            yield f"event: lead\ndata: {json.dumps({'role_id': lead['role_id'], 'html': html})}\n\n"
            seen_up_to = max(seen_up_to, lead["created_at"].isoformat())
        yield ": still here\n\n"
        await asyncio.sleep(PUSH_EVERY_S)


@router.post("/ui/leads/{role_id}/{candidate_id}")
async def act_on_lead(request: Request, role_id: str, candidate_id: str, ctx: Api = Depends(api),
                      who: Principal = RECRUITER) -> Response:
    role_id, candidate_id = checked_id("role_id", role_id), checked_id("candidate_id", candidate_id)
    fields = await form(request)
    back = safe_next(fields.pop("next", None))
    change = {name: value for name, value in fields.items()
              if name in ("status", "reason", "until", "assignee", "note") and value}
    try:
        event = triage.lead_event(ctx.sessions, role_id, candidate_id, change, who.name)
    except triage.TriageError as exc:
        return page(request, "problem.html", 409 if isinstance(exc, triage.NotAllowed) else 422,
                    title="That change was not made", problem=str(exc), back=back)
    await ctx.send(LOGICAL.lead_events, [(candidate_id, event)])
    record(ctx.sessions, who, "lead.status", f"{role_id}/{candidate_id}",
           {"status": event["status"], "event_id": event["event_id"]})
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}sent={event['status']}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/roles/{role_id}", response_class=HTMLResponse)
def role_page(request: Request, role_id: str, sent: Optional[str] = None, saved: bool = False,
              ctx: Api = Depends(api), who: Principal = VIEWER) -> Response:
    role_id = checked_id("role_id", role_id)
    with ctx.sessions() as session:
        spec = queries.stored_role(session, role_id)
    if spec is None and saved:  # published, not applied yet: this page looks again in a moment
        return page(request, "role_pending.html", role_id=role_id)
    if spec is None:
        raise HTTPException(404, f"no role {role_id!r}")
    leads = triage.inbox(ctx.sessions, None, role_id, None, None, 200)["leads"]
    by_status: dict[str, list] = defaultdict(list)
    for lead in leads:
        by_status[lead["status"]].append(lead)
    numbers = funnel(ctx.sessions, role_id)
    short = shortlist(ctx.sessions, role_id, 20) or {}
    names = triage.people(ctx.sessions, [c["candidate_id"] for c in short.get("candidates", [])])
    return page(request, "role.html", spec=spec, shortlist=short, names=names,
                by_status=dict(by_status), funnel=numbers, chart=funnel_bars(numbers), sent=_sent(sent),
                saved=saved, back=f"/roles/{quote(role_id)}")


def candidate_page(request: Request, context: dict[str, Any]) -> Response:
    """`GET /candidates/{id}` asked for by a browser (services.api.routes.candidate)."""
    titles = triage.role_titles(request.app.state.api.sessions, [r["role_id"] for r in context["relevant_roles"]])
    return page(request, "candidate.html", c=context, view=context.get("view") or {}, titles=titles)


def _by_role(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for lead in leads:
        group = groups.setdefault(lead["role_id"], {"role_id": lead["role_id"], "title": lead.get("role_title"),
                                                    "owner": lead.get("role_owner"), "leads": []})
        group["leads"].append(lead)
    return list(groups.values())


def _sent(status: Optional[str]) -> Optional[str]:
    return status if status in LEAD_STATUSES else None
