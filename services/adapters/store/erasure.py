"""Erasure on request (GDPR article 17): every row about a candidate, gone in one transaction,
and the id remembered only as a salted hash so a later event does not bring it back."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Iterable

from sqlalchemy import String, cast, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from services.adapters.store.models import (
    AlertRow,
    AuditRow,
    Candidate,
    CandidatePlace,
    CandidateSkill,
    DeliveryRow,
    DigestItem,
    ErasedCandidate,
    FollowUp,
    HeldBackRow,
    LeadHistoryRow,
    LeadRow,
    MatchState,
    Note,
    OutboxMessage,
    ProfileSnapshot,
    RadarSecret,
    Signal,
)

# Every table that holds a candidate_id column, so holds what the candidate is.
BY_CANDIDATE = (Candidate, ProfileSnapshot, CandidateSkill, CandidatePlace, Signal, Note, FollowUp, MatchState,
                LeadRow, LeadHistoryRow, AlertRow, HeldBackRow, DeliveryRow, DigestItem, OutboxMessage)
SALT_NAME = "erasure-salt"


def salt(session: Session) -> str:
    """This deployment's salt, made once (it never leaves the database)."""
    value = session.scalar(select(RadarSecret.value).where(RadarSecret.name == SALT_NAME))
    if value is None:
        value = secrets.token_hex(32)
        session.execute(insert(RadarSecret).values(name=SALT_NAME, value=value))
        session.flush()
    return value


def id_hash(session: Session, candidate_id: str) -> str:
    return hashlib.sha256(f"{salt(session)}:{candidate_id}".encode()).hexdigest()


def pseudonym(session: Session, candidate_id: str) -> str:
    """How the audit log names an erased candidate: stable, not reversible without the salt."""
    return "erased:" + id_hash(session, candidate_id)[:24]


def erased(session: Session, candidate_ids: Iterable[str]) -> set[str]:
    """The ids among these that were erased (and not re-admitted)."""
    by_hash = {id_hash(session, cid): cid for cid in set(candidate_ids)}
    if not by_hash:
        return set()
    found = session.scalars(select(ErasedCandidate.id_hash).where(ErasedCandidate.id_hash.in_(list(by_hash))))
    return {by_hash[h] for h in found}


def erase(session: Session, candidate_id: str, now: datetime) -> int:
    """Delete every row about the candidate, and the dead letters that hold its id; remember
    the erasure. Returns the rows removed."""
    removed = 0
    for model in BY_CANDIDATE:
        table = model.__table__
        removed += session.execute(delete(table).where(table.c.candidate_id == candidate_id)).rowcount or 0
    outbox = OutboxMessage.__table__
    text = cast(outbox.c.payload, String)
    quoted = json.dumps(candidate_id)  # "c-1": as a field of the JSON, or, escaped, inside the value's text
    removed += session.execute(delete(outbox).where(
        outbox.c.topic.like("%dead-letters"),
        or_(outbox.c.key == candidate_id, text.contains(quoted), text.contains(json.dumps(quoted)[1:-1])))
    ).rowcount or 0
    _pseudonymise_audit(session, candidate_id)
    if not session.get(ErasedCandidate, id_hash(session, candidate_id)):
        session.add(ErasedCandidate(id_hash=id_hash(session, candidate_id), erased_at=now))
    return removed


def _pseudonymise_audit(session: Session, candidate_id: str) -> None:
    """Audit rows stay (who did what, when) but name the candidate by pseudonym only."""
    name = pseudonym(session, candidate_id)
    session.execute(update(AuditRow).where(AuditRow.target == candidate_id).values(target=name))
    for row in session.scalars(select(AuditRow).where(AuditRow.target.like(f"%/{candidate_id}"))):
        if row.target.endswith(f"/{candidate_id}"):
            row.target = row.target[: -len(candidate_id)] + name


def readmit(session: Session, candidate_id: str) -> None:
    """Consent given again: events about the candidate are taken again."""
    session.execute(delete(ErasedCandidate).where(ErasedCandidate.id_hash == id_hash(session, candidate_id)))
