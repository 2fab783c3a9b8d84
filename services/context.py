"""The candidate context: loaded for a whole batch in a few queries, changed in memory,
flushed by the unit of work at commit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any, Callable, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from services.matcher import CandidateFacts, SkillFact
from services.profile import SourcedSnapshot, merge_snapshots
from services.store.models import Candidate, CandidateSkill, MatchState, ProfileSnapshot

IN_CHUNK = 500  # keep IN (...) lists well under every database's parameter limit


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def chunks(items: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class CandidateState:
    candidate_id: str
    row: Optional[Candidate] = None
    snapshots: dict[str, ProfileSnapshot] = field(default_factory=dict)
    skills: dict[str, CandidateSkill] = field(default_factory=dict)
    matches: dict[str, MatchState] = field(default_factory=dict)

    @property
    def profile_view(self) -> Optional[dict[str, Any]]:
        return (self.row.view or {}).get("profile") if self.row else None

    @property
    def facts(self) -> dict[str, Any]:
        return dict((self.row.view or {}).get("facts") or {}) if self.row else {}

    def merged_view(self) -> dict[str, Any]:
        return merge_snapshots([
            SourcedSnapshot(s.source, s.event_id, as_utc(s.occurred_at), s.profile,
                            {k: as_utc(datetime.fromisoformat(v)) for k, v in (s.stated_at or {}).items()})
            for s in self.snapshots.values()
        ])

    def matcher_facts(self) -> CandidateFacts:
        return self.facts_as_of_now()()

    def facts_as_of_now(self) -> Callable[[], CandidateFacts]:
        """The matcher's facts as they stand now, built only if (and once) asked for. Holding
        the pieces is enough: events replace the view, readiness and skill rows, never change
        them in place."""
        row, skills = self.row, dict(self.skills)
        pieces = (row.view, row.do_not_contact, row.readiness, row.readiness_reasons) if row else (None, False, 0.0, [])
        return cache(lambda: facts_of(
            self.candidate_id, *pieces,
            {k: SkillFact(s.origin, s.evidence, as_utc(s.first_seen_at)) for k, s in skills.items()}))


def facts_of(candidate_id: str, stored_view: Optional[dict[str, Any]], do_not_contact: bool, readiness: float,
             readiness_reasons: Optional[list], skills: dict[str, SkillFact]) -> CandidateFacts:
    view = (stored_view or {}).get("profile") or {}
    current = view.get("current") or {}
    return CandidateFacts(
        candidate_id=candidate_id, skills=skills, company=current.get("company"), seniority=view.get("seniority"),
        location=view.get("location"), years_experience=view.get("years_experience"),
        industry=current.get("industry"), do_not_contact=bool(do_not_contact), readiness=readiness or 0.0,
        readiness_reasons=list(readiness_reasons or []),
    )


def load_facts(session: Session, candidate_ids: list[str]) -> dict[str, CandidateFacts]:
    """What the matcher needs of many candidates, read with plain Core queries (no ORM
    objects): the role path scores thousands of candidates and changes none of them."""
    skills: dict[str, dict[str, SkillFact]] = {cid: {} for cid in candidate_ids}
    facts: dict[str, CandidateFacts] = {}
    for part in chunks(candidate_ids):
        for cid, skill, origin, evidence, seen in session.execute(
                select(CandidateSkill.candidate_id, CandidateSkill.skill, CandidateSkill.origin,
                       CandidateSkill.evidence, CandidateSkill.first_seen_at)
                .where(CandidateSkill.candidate_id.in_(part))):
            skills[cid][skill] = SkillFact(origin, evidence, as_utc(seen))
        for cid, view, dnc, readiness, reasons in session.execute(
                select(Candidate.candidate_id, Candidate.view, Candidate.do_not_contact, Candidate.readiness,
                       Candidate.readiness_reasons).where(Candidate.candidate_id.in_(part))):
            facts[cid] = facts_of(cid, view, dnc, readiness, reasons, skills[cid])
    return facts


def load_states(session: Session, candidate_ids: Iterable[str], with_snapshots: bool = True) -> dict[str, CandidateState]:
    """Every candidate's context in one query per table (chunked), never one per event."""
    ids = sorted(set(candidate_ids))
    states = {cid: CandidateState(cid) for cid in ids}
    for part in chunks(ids):
        for row in session.scalars(select(Candidate).where(Candidate.candidate_id.in_(part))):
            states[row.candidate_id].row = row
        for skill in session.scalars(select(CandidateSkill).where(CandidateSkill.candidate_id.in_(part))):
            states[skill.candidate_id].skills[skill.skill] = skill
        for match in session.scalars(for_update(session, match_states().where(MatchState.candidate_id.in_(part)))):
            states[match.candidate_id].matches[match.role_id] = match
        if with_snapshots:
            for snap in session.scalars(select(ProfileSnapshot).where(ProfileSnapshot.candidate_id.in_(part))):
                states[snap.candidate_id].snapshots[snap.source] = snap
    return states


def match_states():
    """Match-state rows with only what the state machine reads: reasons and changed_at are
    only ever written on these paths (when a pair enters, leaves or its score moves), and
    decoding every pair's JSON and timestamp on load was most of the cost of loading them."""
    return select(MatchState).options(defer(MatchState.reasons), defer(MatchState.changed_at))


def for_update(session: Session, query):
    """On PostgreSQL, match-state rows are locked for the transaction: the worker that owns
    a candidate and the one applying a role change never both decide the same transition
    (one waits; a deadlock or unique clash fails a batch, which is retried)."""
    return query.with_for_update() if session.bind.dialect.name == "postgresql" else query
