"""What people triage with: the inbox, roles with their leads, a lead and its history, a
candidate search, and lead changes made from the API and CLI (published to lead-events).

Pages are newest first with an opaque cursor (the last row's sort key), over indexed
columns only: `leads (status, created_at)`, `leads (role_id, status, created_at)`,
`candidate_skills (skill, candidate_id)`, `candidate_places (place, candidate_id)`,
`match_state (role_id, relevant)`.
"""
from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from typing import Any, Optional

from pydantic import ValidationError
from sqlalchemy import desc, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from schemas import LeadEvent
from schemas.events import as_utc
from services.adapters.store.db import utcnow
from services.adapters.store.models import (
    AlertRow,
    Candidate,
    CandidatePlace,
    CandidateSkill,
    LeadHistoryRow,
    LeadRow,
    MatchState,
    RoleSpecRow,
)
from services.app.decoding import describe_validation_error
from services.domain.leads import transition_problem
from services.domain.places import place_parts
from services.domain.taxonomy import normalize_skill


class TriageError(ValueError):
    """A request that cannot be met, in one line (the API maps the kinds to 404 and 409)."""


class NoSuchLead(TriageError):
    pass


class NotAllowed(TriageError):
    pass


# -- lead changes ----------------------------------------------------------------------

def lead_event(sessions: sessionmaker[Session], role_id: str, candidate_id: str, body: dict[str, Any],
               actor: Optional[str]) -> dict[str, Any]:
    """The lead-events message for a status change, checked first against the lead as stored
    (the worker checks again when it applies it)."""
    try:
        event = LeadEvent.model_validate({**body, "event_id": f"lead-{uuid.uuid4()}", "role_id": role_id,
                                          "candidate_id": candidate_id, "actor": actor or body.get("actor"),
                                          "occurred_at": utcnow()})
    except ValidationError as exc:
        raise TriageError(describe_validation_error(exc).removeprefix("schema validation failed: ")) from None
    with sessions() as session:
        status = session.scalar(select(LeadRow.status).where(LeadRow.role_id == role_id,
                                                             LeadRow.candidate_id == candidate_id))
    if status is None:
        raise NoSuchLead(f"no lead for role {role_id!r} and candidate {candidate_id!r} (a lead starts with an alert)")
    problem = transition_problem(status, event.status)
    if problem:
        raise NotAllowed(problem)
    return event.model_dump(mode="json", exclude_none=True)


# -- reading ---------------------------------------------------------------------------

def inbox(sessions: sessionmaker[Session], status: Optional[str] = "new", role_id: Optional[str] = None,
          owner: Optional[str] = None, cursor: Optional[str] = None, limit: int = 50,
          candidate_id: Optional[str] = None, after: Optional[str] = None) -> dict[str, Any]:
    """Leads, newest first (by their first alert), each with the latest alert's reasons; from
    `cursor` on, older ones. With `after` (a cursor), the leads that came after it instead,
    oldest first: what a live page has not shown yet (`next_cursor` then says where it is up to)."""
    query = select(LeadRow, RoleSpecRow.spec, RoleSpecRow.owner).join(
        RoleSpecRow, RoleSpecRow.role_id == LeadRow.role_id)
    for column, value in ((LeadRow.status, status), (LeadRow.role_id, role_id), (RoleSpecRow.owner, owner),
                          (LeadRow.candidate_id, candidate_id)):
        if value:
            query = query.where(column == value)
    position = tuple_(LeadRow.created_at, LeadRow.role_id, LeadRow.candidate_id)
    if after:
        query = query.where(position > tuple_(*_decode(after))).order_by(
            LeadRow.created_at, LeadRow.role_id, LeadRow.candidate_id)
    else:
        if cursor:
            query = query.where(position < tuple_(*_decode(cursor)))
        query = query.order_by(desc(LeadRow.created_at), desc(LeadRow.role_id), desc(LeadRow.candidate_id))
    with sessions() as session:
        rows = session.execute(query.limit(limit)).all()
        alerts = _latest_alerts(session, [(lead.role_id, lead.candidate_id) for lead, _, _ in rows])
        people = _people(session, [lead.candidate_id for lead, _, _ in rows])
    items = [{**lead_view(lead), "role_title": (spec or {}).get("title"), "role_owner": role_owner,
              **people.get(lead.candidate_id, {}), "alert": alerts.get((lead.role_id, lead.candidate_id))}
             for lead, spec, role_owner in rows]
    last = rows[-1][0] if rows and (after or len(rows) == limit) else None
    return {"leads": items, "next_cursor": position_of(last.created_at, last.role_id, last.candidate_id) if last
            else (after or None)}


def position_of(created_at: datetime, role_id: str, candidate_id: str) -> str:
    """A lead's place in the inbox's order, as a cursor."""
    return _encode(created_at, role_id, candidate_id)


def check_cursor(cursor: str) -> None:
    """A TriageError unless the cursor is one this API gave out."""
    _decode(cursor)


def lead_counts(sessions: sessionmaker[Session], role_ids: list[str], status: Optional[str]) -> dict[str, int]:
    """How many leads each of these roles has (in `status`, or in all)."""
    if not role_ids:
        return {}
    query = select(LeadRow.role_id, func.count()).where(LeadRow.role_id.in_(set(role_ids)))
    if status:
        query = query.where(LeadRow.status == status)
    with sessions() as session:
        return dict(session.execute(query.group_by(LeadRow.role_id)).all())


def lead_view(lead: LeadRow) -> dict[str, Any]:
    return {"role_id": lead.role_id, "candidate_id": lead.candidate_id, "status": lead.status, "reason": lead.reason,
            "assignee": lead.assignee, "note": lead.note, "until": lead.until, "created_at": as_utc(lead.created_at),
            "first_alert_id": lead.first_alert_id, "first_signals": lead.first_signals,
            "updated_at": as_utc(lead.updated_at), "updated_by": lead.updated_by}


def lead(sessions: sessionmaker[Session], role_id: str, candidate_id: str) -> Optional[dict[str, Any]]:
    with sessions() as session:
        row = session.get(LeadRow, (role_id, candidate_id))
        if row is None:
            return None
        history = session.scalars(select(LeadHistoryRow).where(
            LeadHistoryRow.role_id == role_id, LeadHistoryRow.candidate_id == candidate_id)
            .order_by(LeadHistoryRow.id)).all()
    return {**lead_view(row), "history": [
        {"status": h.status, "reason": h.reason, "assignee": h.assignee, "note": h.note, "until": h.until,
         "actor": h.actor, "at": as_utc(h.occurred_at), "event_id": h.event_id} for h in history]}


def role_exists(sessions: sessionmaker[Session], role_id: str) -> bool:
    """A role spec was ever saved under this id (a deleted one keeps its leads)."""
    with sessions() as session:
        return session.scalar(select(RoleSpecRow.role_id).where(RoleSpecRow.role_id == role_id)) is not None


def roles(sessions: sessionmaker[Session], status: Optional[str] = None, owner: Optional[str] = None,
          limit: int = 200) -> list[dict[str, Any]]:
    """Roles with the number of their leads in each status."""
    query = select(RoleSpecRow.role_id, RoleSpecRow.spec, RoleSpecRow.status, RoleSpecRow.owner,
                   RoleSpecRow.updated_at).where(RoleSpecRow.deleted.is_(False))
    if status:
        query = query.where(RoleSpecRow.status == status)
    if owner:
        query = query.where(RoleSpecRow.owner == owner)
    with sessions() as session:
        found = session.execute(query.order_by(desc(RoleSpecRow.updated_at)).limit(limit)).all()
        ids = [r.role_id for r in found]
        counts: dict[str, dict[str, int]] = {}
        if ids:
            for role_id, lead_status, count in session.execute(
                    select(LeadRow.role_id, LeadRow.status, func.count()).where(LeadRow.role_id.in_(ids))
                    .group_by(LeadRow.role_id, LeadRow.status)):
                counts.setdefault(role_id, {})[lead_status] = count
    return [{"role_id": r.role_id, "title": (r.spec or {}).get("title"), "status": r.status, "owner": r.owner,
             "updated_at": as_utc(r.updated_at), "leads": counts.get(r.role_id, {})} for r in found]


def search_candidates(sessions: sessionmaker[Session], skill: Optional[str] = None, place: Optional[str] = None,
                      min_readiness: Optional[float] = None, role_id: Optional[str] = None,
                      cursor: Optional[str] = None, limit: int = 50) -> dict[str, Any]:
    """Candidates by skill, place, readiness and the roles they are relevant for, by id."""
    query = select(Candidate.candidate_id, Candidate.view, Candidate.readiness)
    if skill:
        query = query.where(Candidate.candidate_id.in_(
            select(CandidateSkill.candidate_id).where(CandidateSkill.skill == normalize_skill(skill))))
    if place:
        parts = place_parts(place)
        if parts:
            query = query.where(Candidate.candidate_id.in_(
                select(CandidatePlace.candidate_id).where(CandidatePlace.place == parts[0])))
    if role_id:
        query = query.where(Candidate.candidate_id.in_(select(MatchState.candidate_id).where(
            MatchState.role_id == role_id, MatchState.relevant.is_(True))))
    if min_readiness is not None:
        query = query.where(Candidate.readiness >= min_readiness)
    if cursor:
        query = query.where(Candidate.candidate_id > _decode(cursor)[0])
    with sessions() as session:
        rows = session.execute(query.order_by(Candidate.candidate_id).limit(limit)).all()
    items = [{"candidate_id": cid, "readiness": readiness, **_who(view)} for cid, view, readiness in rows]
    return {"candidates": items, "next_cursor": _encode(rows[-1][0]) if len(rows) == limit else None}


# -- helpers ---------------------------------------------------------------------------

def _latest_alerts(session: Session, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    if not pairs:
        return {}
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    wanted = set(pairs)
    # Two plain IN lists use the (role_id, candidate_id, created_at) index; a row-value IN would not.
    rows = session.execute(select(AlertRow.role_id, AlertRow.candidate_id, AlertRow.payload).where(
        AlertRow.role_id.in_({r for r, _ in wanted}), AlertRow.candidate_id.in_({c for _, c in wanted}),
        AlertRow.type == "match.alert").order_by(AlertRow.created_at))
    for role_id, candidate_id, payload in rows:
        if (role_id, candidate_id) not in wanted:
            continue
        latest[(role_id, candidate_id)] = {k: payload.get(k) for k in ("alert_id", "fit", "readiness", "reasons",
                                                                        "signals", "created_at")}
    return latest


def people(sessions: sessionmaker[Session], candidate_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Name, headline and location of each candidate (pages show people, not ids)."""
    with sessions() as session:
        return _people(session, candidate_ids)


def role_titles(sessions: sessionmaker[Session], role_ids: list[str]) -> dict[str, str]:
    if not role_ids:
        return {}
    with sessions() as session:
        rows = session.execute(select(RoleSpecRow.role_id, RoleSpecRow.spec).where(RoleSpecRow.role_id.in_(set(role_ids))))
        return {role_id: (spec or {}).get("title") or role_id for role_id, spec in rows}


def _people(session: Session, candidate_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not candidate_ids:
        return {}
    rows = session.execute(select(Candidate.candidate_id, Candidate.view).where(
        Candidate.candidate_id.in_(set(candidate_ids))))
    return {cid: _who(view) for cid, view in rows}


def _who(view: Optional[dict]) -> dict[str, Any]:
    profile = (view or {}).get("profile") or {}
    return {"name": profile.get("name"), "headline": profile.get("headline"), "location": profile.get("location")}


def _encode(*parts: Any) -> str:
    text = json.dumps([p.isoformat() if isinstance(p, (datetime, date)) else p for p in parts])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or not parts:
            raise ValueError
    except (ValueError, TypeError):
        raise TriageError("cursor: not one this API gave out") from None
    if len(parts) == 3:
        parts[0] = as_utc(datetime.fromisoformat(parts[0]))
    return parts

