"""The pages: the inbox (with new alerts pushed as they come), a role, a candidate, and the
one-click lead actions. They read through the same use cases as the JSON API and change
leads the same way: a lead event on `lead-events`, applied by the worker."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from schemas.events import LEAD_STATUSES
from services.adapters.store import queries
from services.adapters.store.db import utcnow
from services.api.auth import RECRUITER, VIEWER
from services.api.changes import publish_lead_change
from services.api.deps import Api, api, checked_id
from services.api.web.charts import funnel_bars
from services.api.web.render import SECURITY_HEADERS, dom_id, fragment, page
from services.api.web.session import form, safe_next
from services.app import triage
from services.app.funnel import funnel
from services.app.read_models import shortlist
from services.domain.access import Principal

router = APIRouter(include_in_schema=False)
INBOX_SIZE = 100
PUSH_EVERY_S = 2.0
PUSH_BATCH = 50
FROM_THE_START = triage.position_of(datetime(1970, 1, 1, tzinfo=timezone.utc), "", "")


@router.get("/", response_class=HTMLResponse)
def inbox_page(request: Request, status: str = "new", sent: Optional[str] = None,
               cursor: Optional[str] = Query(None, max_length=2000), ctx: Api = Depends(api),
               who: Principal = VIEWER) -> Response:
    status = status if status in LEAD_STATUSES + ("all",) else "new"
    wanted = None if status == "all" else status
    try:
        found = triage.inbox(ctx.sessions, wanted, None, None, cursor, INBOX_SIZE)
    except triage.TriageError as exc:
        raise HTTPException(422, str(exc)) from None
    leads = found["leads"]
    groups = _by_role(leads)
    totals = triage.lead_counts(ctx.sessions, [group["role_id"] for group in groups], wanted)
    return page(request, "inbox.html", by_role=groups, totals=totals, status=status, sent=_sent(sent),
                newest=_position(leads[0]) if leads and cursor is None else FROM_THE_START,
                back="/" if status == "new" else f"/?status={status}", older=found["next_cursor"],
                first_page=cursor is None)


@router.get("/ui/inbox/events")
async def inbox_events(request: Request, since: str = Query(FROM_THE_START, max_length=2000),
                       ctx: Api = Depends(api), who: Principal = VIEWER) -> StreamingResponse:
    """Server-sent events: every new lead after `since` (a cursor), as the card the inbox shows,
    in the order they came; none is skipped, however many come at once."""
    try:
        triage.check_cursor(since)
    except triage.TriageError as exc:
        raise HTTPException(422, str(exc)) from None
    return StreamingResponse(_new_leads(request, ctx, since, who), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _new_leads(request: Request, ctx: Api, since: str, who: Principal) -> AsyncIterator[str]:
    after = since
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        found = await asyncio.to_thread(triage.inbox, ctx.sessions, "new", None, None, None, PUSH_BATCH, None, after)
        for lead in found["leads"]:
            html = fragment("lead_card.html", lead=lead, who=who, back="/", today=utcnow().date())
            data = {"group": "role-" + dom_id(lead["role_id"]), "role_url": f"/roles/{quote(lead['role_id'])}",
                    "role_title": lead.get("role_title") or lead["role_id"], "html": html}
            yield f"event: lead\ndata: {json.dumps(data)}\n\n"
        after = found["next_cursor"] or after
        if len(found["leads"]) < PUSH_BATCH:  # caught up: look again in a moment
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
        event = await publish_lead_change(ctx, who, role_id, candidate_id, change)
    except triage.TriageError as exc:
        return page(request, "problem.html", 409 if isinstance(exc, triage.NotAllowed) else 422,
                    title="That change was not made", problem=_in_words(str(exc)), back=back)
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}sent={event['status']}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/roles/{role_id}", response_class=HTMLResponse)
def role_page(request: Request, role_id: str, sent: Optional[str] = None,
              saved: Optional[str] = Query(None, max_length=200), ctx: Api = Depends(api),
              who: Principal = VIEWER) -> Response:
    """`saved` is the event id of a change just published: until the worker has applied that
    very version, the page says so and looks again in a moment."""
    role_id = checked_id("role_id", role_id)
    with ctx.sessions() as session:
        spec = queries.stored_role(session, role_id)
    if saved and (spec is None or spec.get("event_id") != saved):
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
    sessions = request.app.state.api.sessions
    titles = triage.role_titles(sessions, [r["role_id"] for r in context["relevant_roles"]])
    focus = request.query_params.get("role")  # the role a notification's link is about: its lead first
    leads = triage.inbox(sessions, None, None, None, None, 50, candidate_id=context["candidate_id"])["leads"]
    leads.sort(key=lambda lead: lead["role_id"] != focus)
    back = f"/candidates/{quote(context['candidate_id'])}" + (f"?role={quote(focus)}" if focus else "")
    return page(request, "candidate.html", c=context, view=context.get("view") or {}, titles=titles, leads=leads,
                focus=focus, back=back)


# The lead event's rules, as a person at the page reads them (the API keeps the field names).
_PAGE_WORDS = {"snoozed needs until after the day of the change": "Pick a snooze date after today.",
               "snoozed needs until": "Pick a date to snooze until.",
               "handed_off needs an assignee": "Say who the lead is handed to.",
               "not_a_fit needs a reason": "Pick the reason it is not a fit."}


def _in_words(problem: str) -> str:
    return next((words for rule, words in _PAGE_WORDS.items() if rule in problem), problem)


def _position(lead: dict[str, Any]) -> str:
    return triage.position_of(lead["created_at"], lead["role_id"], lead["candidate_id"])


def _by_role(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for lead in leads:
        group = groups.setdefault(lead["role_id"], {"role_id": lead["role_id"], "title": lead.get("role_title"),
                                                    "owner": lead.get("role_owner"), "leads": []})
        group["leads"].append(lead)
    return list(groups.values())


def _sent(status: Optional[str]) -> Optional[str]:
    return status if status in LEAD_STATUSES else None
