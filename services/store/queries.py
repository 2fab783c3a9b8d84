"""The indexed queries the hot paths rely on (no scans of every candidate)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.context import chunks
from services.matcher import Role
from services.store.models import Candidate, CandidateSkill, MatchState, ProcessedEvent


def processed_event_ids(session: Session, stream: str, event_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(event_ids):
        found |= set(session.scalars(select(ProcessedEvent.event_id).where(
            ProcessedEvent.stream == stream, ProcessedEvent.event_id.in_(part))))
    return found


def candidates_for_role(session: Session, role: Role) -> list[str]:
    """Candidates holding every must-have: skill-first through ix_candidate_skills_skill_candidate.

    A role with no must-have can match anyone, so it falls back to the candidates table,
    narrowed by city when the role is not remote.
    """
    if role.must_have:
        query = (select(CandidateSkill.candidate_id)
                 .where(CandidateSkill.skill.in_(role.must_have))
                 .group_by(CandidateSkill.candidate_id)
                 .having(func.count() == len(role.must_have)))
        return list(session.scalars(query))
    query = select(Candidate.candidate_id)
    if role.locations and not role.remote:
        from services.places import city_of
        query = query.where(Candidate.city.in_([city_of(place) for place in role.locations]))
    return list(session.scalars(query))


def relevant_candidates(session: Session, role_id: str) -> list[str]:
    return list(session.scalars(select(MatchState.candidate_id).where(
        MatchState.role_id == role_id, MatchState.relevant.is_(True))))
