"""The indexed queries the hot paths rely on (no scans of every candidate)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from services.adapters.store.loaders import chunks
from services.adapters.store.models import (
    Candidate,
    CandidatePlace,
    CandidateSkill,
    MatchState,
    ProcessedEvent,
    RoleSpecRow,
)
from services.domain.matcher import Role

_skills = CandidateSkill.__table__
HOLDERS_PROBE_CAP = 2_000  # enough to tell a rare skill from a common one


def processed_event_ids(session: Session, stream: str, event_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(event_ids):
        found |= set(session.scalars(select(ProcessedEvent.event_id).where(
            ProcessedEvent.stream == stream, ProcessedEvent.event_id.in_(part))))
    return found


def candidates_for_role(session: Session, role: Role) -> list[str]:
    """Candidates that could meet a role, found by indexed SQL, never by reading every context.

    Skill-first through ix_candidate_skills_skill_candidate (every must-have held), then the
    hard constraints kept in columns (do-not-contact, seniority, years) narrow it further.
    A role with no must-have goes place-first instead (ix_candidate_places_place_candidate)
    when it is on-site somewhere; a remote one with no must-have can match anyone, so it
    is checked against every candidate the column filters leave. `evaluate` has the last word.
    """
    query = select(Candidate.candidate_id).where(Candidate.do_not_contact.is_(False))
    if role.seniority:
        query = query.where(Candidate.seniority.in_(sorted(role.seniority)))
    if role.min_years is not None:
        query = query.where(Candidate.years_experience >= role.min_years)
    if role.must_have:
        query = query.where(Candidate.candidate_id.in_(holders_of_all(session, role.must_have)))
    elif role.place_keys is not None:
        in_place = select(CandidatePlace.candidate_id).where(CandidatePlace.place.in_(sorted(role.place_keys)))
        query = query.where(Candidate.candidate_id.in_(in_place))
    return list(session.scalars(query.order_by(Candidate.candidate_id)))


def holders_of_all(session: Session, skills: Iterable[str]):
    """The candidates holding every one of these skills, as a subquery driven by the rarest:
    its holders are read from ix_candidate_skills_skill_candidate and each is checked for
    the others by primary key. Reading every holder of every skill (a common one is held by
    about half of all candidates) cost most of a role event at 1M candidates."""
    rarest, *others = rarest_first(session, skills)
    holders = select(_skills.c.candidate_id).where(_skills.c.skill == rarest)
    for skill in others:
        other = _skills.alias()
        holders = holders.where(exists().where(other.c.candidate_id == _skills.c.candidate_id, other.c.skill == skill))
    return holders


def rarest_first(session: Session, skills: Iterable[str]) -> list[str]:
    """The skills, the one with the fewest holders first. Holders are counted up to a cap;
    when every skill reaches it, they are counted again with a cap ten times higher (up to
    three rounds), so the cost follows the rarest skill, not the most common one."""
    skills = sorted(set(skills))
    counts: dict[str, int] = {}
    tied, cap = skills, HOLDERS_PROBE_CAP
    for _ in range(3):
        counts.update({skill: holders_up_to(session, skill, cap) for skill in tied})
        tied = [skill for skill in tied if counts[skill] >= cap]
        if len(tied) < 2 or len(tied) < len(skills):  # the rarest is known: it is under the cap
            break
        cap *= 10
    return sorted(skills, key=lambda skill: (counts[skill], skill))


def holders_up_to(session: Session, skill: str, cap: int = HOLDERS_PROBE_CAP) -> int:
    """How many candidates hold a skill, counted up to `cap` (one short index range)."""
    held = select(literal(1)).where(_skills.c.skill == skill).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(held)) or 0


def relevant_candidates(session: Session, role_id: str) -> list[str]:
    return list(session.scalars(select(MatchState.candidate_id).where(
        MatchState.role_id == role_id, MatchState.relevant.is_(True))))


# -- role specs: the stored copy of the compacted role-specs topic ------------------------

_roles = RoleSpecRow.__table__


def stored_role(session: Session, role_id: str) -> Optional[dict[str, Any]]:
    """A role's stored spec, or None when it was never stored or is deleted."""
    row = session.execute(select(_roles.c.spec, _roles.c.deleted).where(_roles.c.role_id == role_id)).first()
    return None if row is None or row.deleted else row.spec


def save_role(session: Session, role_id: str, spec: Optional[dict[str, Any]], now: datetime) -> int:
    """Store a spec (None: deleted) under the next revision; returns the revision. Workers
    refresh their role index from the revisions they have not seen."""
    revision = (session.scalar(select(func.max(_roles.c.revision))) or 0) + 1
    values = ({"spec": spec, "status": spec["status"], "deleted": False, "owner": (spec.get("owner") or "")[:200] or None}
              if spec is not None else {"status": "deleted", "deleted": True})
    done = session.execute(update(_roles).where(_roles.c.role_id == role_id)
                           .values(revision=revision, updated_at=now, **values))
    if not done.rowcount:
        session.execute(insert(_roles).values(role_id=role_id, revision=revision, updated_at=now,
                                              **{"spec": {}, **values}))
    return revision


def roles_changed_since(session: Session, revision: int) -> list:
    """(role_id, spec, deleted, revision, updated_at) of every role changed after `revision`, in order."""
    return list(session.execute(select(_roles.c.role_id, _roles.c.spec, _roles.c.deleted, _roles.c.revision,
                                       _roles.c.updated_at)
                                .where(_roles.c.revision > revision).order_by(_roles.c.revision)))
