"""Loading candidate contexts for a batch in a few plain queries (no ORM objects).

Contexts are domain data (services.domain.context); the handlers change nothing here, and
the batch writer stores what they decided.
"""
from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Collection, Iterable, Mapping, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.events import as_utc
from services.adapters.store.models import Candidate, CandidateSkill, LeadRow, MatchState, ProfileSnapshot
from services.domain.context import CandidateContext, Facts, PairState, Snapshot, matcher_facts
from services.domain.leads import Lead
from services.domain.matcher import CandidateFacts, SkillFact

IN_CHUNK = 500  # keep IN (...) lists well under every database's parameter limit
_candidates, _skills = Candidate.__table__, CandidateSkill.__table__
_pairs, _snapshots, _leads = MatchState.__table__, ProfileSnapshot.__table__, LeadRow.__table__
_PAIR_COLUMNS = (_pairs.c.role_id, _pairs.c.candidate_id, _pairs.c.relevant, _pairs.c.fit, _pairs.c.readiness,
                 _pairs.c.transitions, _pairs.c.last_alert_id, _pairs.c.silent)


def _rows(session: Session, query) -> list:
    """Every row at once: one fetchall, not a fetchone per row (a fifth of a role event)."""
    return session.execute(query).all()


def chunks(items: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def for_update(session: Session, query):
    """On PostgreSQL, match-state rows are locked for the transaction: the worker that owns
    a candidate and the one applying a role change never both decide the same transition
    (one waits; a deadlock or unique clash fails a batch, which is retried)."""
    return query.with_for_update() if session.bind.dialect.name == "postgresql" else query


def load_contexts(session: Session, candidate_ids: Iterable[str],
                  generations: Optional[Mapping[str, int]] = None) -> dict[str, CandidateContext]:
    """Every candidate's context, one query per table (chunked), never one per event.
    A candidate the store does not hold gets an empty context (stored=False). `generations`
    (erasure.generations: the ids ever erased) go into the contexts and their pairs."""
    generations = generations or {}
    ids = sorted(set(candidate_ids))
    rows: dict[str, dict] = {cid: {"skills": {}, "pairs": {}, "snapshots": {}, "leads": {}} for cid in ids}
    stored: dict[str, tuple] = {}
    for part in chunks(ids):
        for cid, view, dnc, readiness, reasons in _rows(session,
                select(_candidates.c.candidate_id, _candidates.c.view, _candidates.c.do_not_contact,
                       _candidates.c.readiness, _candidates.c.readiness_reasons)
                .where(_candidates.c.candidate_id.in_(part))):
            stored[cid] = (view or {}, dnc, readiness, reasons)
        for cid, skill, fact in _skill_rows(session, part):
            rows[cid]["skills"][skill] = fact
        for row in _rows(session, for_update(session, select(*_PAIR_COLUMNS).where(
                _pairs.c.candidate_id.in_(part)))):
            rows[row.candidate_id]["pairs"][row.role_id] = _pair(row, generations.get(row.candidate_id, 0))
        for cid, by_role in load_leads(session, part).items():
            rows[cid]["leads"] = by_role
        for row in _rows(session, select(_snapshots).where(_snapshots.c.candidate_id.in_(part))):
            rows[row.candidate_id]["snapshots"][row.source] = _snapshot(row)
    return {cid: _context(cid, stored.get(cid), rows[cid], generations.get(cid, 0)) for cid in ids}


def _context(cid: str, stored: Optional[tuple], parts: dict, generation: int) -> CandidateContext:
    freeze = MappingProxyType
    if stored is None:
        return CandidateContext(cid, skills=freeze(parts["skills"]), pairs=freeze(parts["pairs"]),
                                snapshots=freeze(parts["snapshots"]), leads=freeze(parts["leads"]),
                                generation=generation)
    view, dnc, readiness, reasons = stored
    return CandidateContext(cid, stored=True, view=view.get("profile"), facts=Facts.from_json(view.get("facts")),
                            snapshots=freeze(parts["snapshots"]), skills=freeze(parts["skills"]),
                            do_not_contact=bool(dnc), readiness=readiness or 0.0,
                            readiness_reasons=tuple(reasons or ()), pairs=freeze(parts["pairs"]),
                            leads=freeze(parts["leads"]), generation=generation)


def _skill_rows(session: Session, candidate_ids: list[str], only: Optional[Collection[str]] = None):
    """(candidate, skill, fact) rows; `only`: just these skills (an empty collection: none)."""
    query = select(_skills.c.candidate_id, _skills.c.skill, _skills.c.origin, _skills.c.evidence,
                   _skills.c.first_seen_at).where(_skills.c.candidate_id.in_(candidate_ids))
    if only is not None:
        if not only:
            return
        query = query.where(_skills.c.skill.in_(sorted(only)))
    for cid, skill, origin, evidence, seen in _rows(session, query):
        yield cid, skill, SkillFact(origin, evidence, as_utc(seen))


def _pair(row, generation: int = 0) -> PairState:
    return PairState(bool(row.relevant), row.fit, row.readiness, row.transitions, row.last_alert_id, bool(row.silent),
                     generation)


def _snapshot(row) -> Snapshot:
    occurred_at = as_utc(row.occurred_at)
    # A row stored before field dates were kept dates every field from its snapshot.
    stated_at = row.stated_at if row.stated_at is not None else dict.fromkeys(row.profile or {}, occurred_at.isoformat())
    return Snapshot(row.source, row.event_id, occurred_at, MappingProxyType(row.profile or {}),
                    MappingProxyType(stated_at))


def load_facts(session: Session, candidate_ids: list[str],
               only_skills: Optional[Collection[str]] = None) -> dict[str, CandidateFacts]:
    """What the matcher needs of many candidates: the role path scores thousands of
    candidates and changes none of their contexts. `only_skills`: load just these skills
    (a role's must- and nice-to-haves: all that evaluating and explaining that one role
    reads; a candidate holds about five times as many, a role event's main cost at 1M)."""
    skills: dict[str, dict[str, SkillFact]] = {cid: {} for cid in candidate_ids}
    facts: dict[str, CandidateFacts] = {}
    for part in chunks(candidate_ids):
        for cid, skill, fact in _skill_rows(session, part, only_skills):
            skills[cid][skill] = fact
        for cid, view, dnc, readiness, reasons in _rows(session,
                select(_candidates.c.candidate_id, _candidates.c.view, _candidates.c.do_not_contact,
                       _candidates.c.readiness, _candidates.c.readiness_reasons)
                .where(_candidates.c.candidate_id.in_(part))):
            facts[cid] = matcher_facts(cid, (view or {}).get("profile"), dnc, readiness, reasons, skills[cid])
    return facts


def load_pairs(session: Session, role_id: str, candidate_ids: list[str],
               generations: Optional[Mapping[str, int]] = None) -> dict[str, PairState]:
    """One role's pairs with these candidates (locked on PostgreSQL, like the candidate path's),
    with their candidates' generations (erasure.generations: the ids ever erased)."""
    generations = generations or {}
    return {row.candidate_id: _pair(row, generations.get(row.candidate_id, 0))
            for row in _rows(session, for_update(session, select(*_PAIR_COLUMNS).where(
                _pairs.c.role_id == role_id, _pairs.c.candidate_id.in_(candidate_ids))))}


def load_leads(session: Session, candidate_ids: list[str], role_id: Optional[str] = None) -> dict[str, dict]:
    """candidate id -> role id -> Lead (only one role's, when `role_id` is given)."""
    found: dict[str, dict] = {}
    for part in chunks(list(candidate_ids)):
        query = select(_leads).where(_leads.c.candidate_id.in_(part))
        if role_id is not None:
            query = query.where(_leads.c.role_id == role_id)
        for row in _rows(session, query):
            found.setdefault(row.candidate_id, {})[row.role_id] = lead_of(row)
    return found


def lead_of(row) -> Lead:
    return Lead(role_id=row.role_id, candidate_id=row.candidate_id, status=row.status,
                created_at=as_utc(row.created_at), first_alert_id=row.first_alert_id,
                first_signals=tuple(row.first_signals or ()), readiness_at_alert=row.readiness_at_alert,
                reason=row.reason, assignee=row.assignee, note=row.note,
                until=date.fromisoformat(row.until) if row.until else None, blocked_at=as_utc(row.blocked_at),
                furthest=row.furthest, first_action_at=as_utc(row.first_action_at), updated_at=as_utc(row.updated_at),
                updated_by=row.updated_by)
