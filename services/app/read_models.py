"""Read models for the API and CLI: a candidate's context and a role's shortlist."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import desc, select
from sqlalchemy.orm import Session, sessionmaker

from schemas import RoleSpec
from schemas.events import as_utc
from services.adapters.store.loaders import load_facts
from services.adapters.store.models import (
    AlertRow,
    Candidate,
    CandidateSkill,
    FollowUp,
    MatchState,
    Note,
    OutboxMessage,
    ProfileSnapshot,
    RoleSpecRow,
    Signal,
)
from services.domain.matcher import Role, explain
from services.domain.taxonomy import skill_label


def candidate_known(sessions: sessionmaker[Session], candidate_id: str) -> bool:
    with sessions() as session:
        return session.get(Candidate, candidate_id) is not None


def candidate_context(sessions: sessionmaker[Session], candidate_id: str, timeline_limit: int = 100) -> Optional[dict[str, Any]]:
    with sessions() as session:
        row = session.get(Candidate, candidate_id)
        if row is None:
            return None
        skills = session.scalars(select(CandidateSkill).where(CandidateSkill.candidate_id == candidate_id)
                                 .order_by(CandidateSkill.first_seen_at)).all()
        signals = session.scalars(select(Signal).where(Signal.candidate_id == candidate_id)
                                  .order_by(desc(Signal.occurred_at)).limit(timeline_limit)).all()
        notes = session.scalars(select(Note).where(Note.candidate_id == candidate_id)
                                .order_by(desc(Note.occurred_at)).limit(timeline_limit)).all()
        follow_ups = session.scalars(select(FollowUp).where(FollowUp.candidate_id == candidate_id)).all()
        stated = {source: (dates or {}) for source, dates in session.execute(
            select(ProfileSnapshot.source, ProfileSnapshot.stated_at).where(ProfileSnapshot.candidate_id == candidate_id))}
        matches = session.scalars(select(MatchState).where(MatchState.candidate_id == candidate_id,
                                                           MatchState.relevant.is_(True))).all()
        timeline = [{"at": as_utc(s.occurred_at), "kind": "signal", "type": s.type, "detail": s.detail,
                     "evidence": s.evidence} for s in signals]
        timeline += [{"at": as_utc(n.occurred_at), "kind": "note", "note_kind": n.kind, "event_id": n.event_id,
                      "author": n.author, "text": n.text, "extracted": n.extraction} for n in notes]
        timeline.sort(key=lambda item: str(item["at"]), reverse=True)
        return {
            "candidate_id": candidate_id,
            "view": (row.view or {}).get("profile"),
            "stated": _stated(((row.view or {}).get("profile") or {}).get("sources") or {}, stated),
            "do_not_contact": row.do_not_contact,
            "skills": [{"skill": s.skill, "label": skill_label(s.skill), "origin": s.origin, "evidence": s.evidence,
                        "first_seen_at": as_utc(s.first_seen_at)} for s in skills],
            "readiness": {"score": row.readiness, "reasons": row.readiness_reasons},
            "follow_ups": [{"due_at": as_utc(f.due_at), "said": f.surface, "note": f.note_event_id, "fired_at": as_utc(f.fired_at)}
                           for f in follow_ups],
            "relevant_roles": [{"role_id": m.role_id, "fit": m.fit, "since": as_utc(m.changed_at)} for m in matches],
            "timeline": timeline[:timeline_limit],
            "updated_at": as_utc(row.updated_at),
        }


def _stated(sources: dict[str, str], stated: dict[str, dict[str, str]]) -> dict[str, dict[str, Optional[str]]]:
    """Each field of the merged profile: the source it was taken from and when that source stated it."""
    return {field: {"source": source, "at": stated.get(source, {}).get(field)} for field, source in sources.items()}


def shortlist(sessions: sessionmaker[Session], role_id: str, limit: int = 10) -> Optional[dict[str, Any]]:
    """Currently relevant candidates, by fit then readiness (readiness read fresh from the context)."""
    with sessions() as session:
        role = session.get(RoleSpecRow, role_id)
        if role is None or role.deleted:
            return None
        rows = session.execute(
            select(MatchState.candidate_id, MatchState.fit, MatchState.changed_at, Candidate.readiness)
            .join(Candidate, Candidate.candidate_id == MatchState.candidate_id)
            .where(MatchState.role_id == role_id, MatchState.relevant.is_(True))
            .order_by(desc(MatchState.fit), desc(Candidate.readiness), MatchState.candidate_id)
            .limit(limit)).all()
        # Reasons are written as of the candidate's current context and the role's current spec
        # (a role edit that leaves the fit alone still changes what there is to say).
        spec = Role.from_spec(RoleSpec.model_validate(role.spec))
        facts = load_facts(session, [cid for cid, *_ in rows])
        return {
            "role_id": role_id, "title": role.spec.get("title"), "status": role.status,
            "candidates": [{"candidate_id": cid, "fit": fit, "readiness": readiness, "relevant_since": as_utc(since),
                            "reasons": explain(spec, facts[cid]) if cid in facts else []}
                           for cid, fit, since, readiness in rows],
        }


def recent_alerts(sessions: sessionmaker[Session], limit: int = 50) -> list[dict[str, Any]]:
    """The latest alerts and withdrawals (kept for good in `alerts`), each saying whether the
    relay has published it yet."""
    with sessions() as session:
        rows = session.execute(
            select(AlertRow.payload, OutboxMessage.sent_at, OutboxMessage.id)
            .outerjoin(OutboxMessage, OutboxMessage.message_id == AlertRow.alert_id)
            .order_by(desc(AlertRow.created_at), desc(AlertRow.alert_id)).limit(limit)).all()
        return [dict(payload, published=sent_at is not None or outbox_id is None)
                for payload, sent_at, outbox_id in rows]
