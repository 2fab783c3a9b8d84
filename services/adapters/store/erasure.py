"""Erasure on request (GDPR article 17): every row about a candidate, gone in one transaction,
and the id remembered only as a salted hash so a later event does not bring it back.

The hash's row stays when consent re-admits the candidate, counting the erasures: that
count is the generation of the candidate's life since (services.domain.context), part of
its alert ids so that a receiver never takes a new alert for a repeat of an earlier life's."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from schemas.events import id_digest
from services.adapters.store.kept_secrets import kept_secret
from services.adapters.store.loaders import chunks
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
    ProcessedEvent,
    ProfileSnapshot,
    Signal,
)

# Every table that holds a candidate_id column, so holds what the candidate is.
BY_CANDIDATE = (Candidate, ProfileSnapshot, CandidateSkill, CandidatePlace, Signal, Note, FollowUp, MatchState,
                LeadRow, LeadHistoryRow, AlertRow, HeldBackRow, DeliveryRow, DigestItem, OutboxMessage)
SALT_NAME = "erasure-salt"


def salt(session: Session) -> str:
    """This deployment's salt, made once (it never leaves the database)."""
    return kept_secret(session, SALT_NAME)


def id_hash(session: Session, candidate_id: str, secret: Optional[str] = None) -> str:
    return hashlib.sha256(f"{secret or salt(session)}:{candidate_id}".encode()).hexdigest()


def pseudonym(session: Session, candidate_id: str) -> str:
    """How the audit log names an erased candidate: stable, not reversible without the salt."""
    return "erased:" + id_hash(session, candidate_id)[:24]


def standing(session: Session, candidate_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
    """For the ids among these that were ever erased: (generation, erased now). The generation
    is how many times the candidate was erased; erased now, unless consent re-admitted it since.
    The salt is read once, and one query asks for 500 ids."""
    ids = set(candidate_ids)
    if not ids:
        return {}
    secret = salt(session)
    by_hash = {id_hash(session, cid, secret): cid for cid in ids}
    row = ErasedCandidate  # selected through the model: the session flushes pending erasures first
    return {by_hash[found.id_hash]: (found.erasures, found.readmitted_at is None) for part in chunks(list(by_hash))
            for found in session.execute(select(row.id_hash, row.erasures, row.readmitted_at)
                                         .where(row.id_hash.in_(part)))}


def erased(session: Session, candidate_ids: Iterable[str]) -> set[str]:
    """The ids among these that were erased (and not re-admitted since)."""
    return {cid for cid, (_, now) in standing(session, candidate_ids).items() if now}


def generations(session: Session, candidate_ids: Iterable[str]) -> dict[str, int]:
    """The generation of each id among these that was ever erased (the others' is 0)."""
    return {cid: generation for cid, (generation, _) in standing(session, candidate_ids).items()}


def erase(session: Session, candidate_id: str, now: datetime) -> tuple[int, int]:
    """Delete every row about the candidate, and the dead letters that hold its id; remember
    the erasure. Returns the rows removed and the generation a re-admission would start."""
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
    removed += _forget_timer_ids(session, candidate_id)
    _pseudonymise_audit(session, candidate_id)
    row = session.get(ErasedCandidate, id_hash(session, candidate_id))
    if row is None:
        row = ErasedCandidate(id_hash=id_hash(session, candidate_id), erased_at=now, erasures=1)
        session.add(row)
    elif row.readmitted_at is not None:  # a life after re-admission ends: the next one is another generation
        row.erasures, row.erased_at, row.readmitted_at = row.erasures + 1, now, None
    # else erased again before any re-admission: no life in between, the same generation
    return removed, row.erasures


# The ids the scheduler and `radar rescore` give their timer events name the candidate
# (schemas.events.timer_event_id). The LIKE patterns narrow the rows in SQL; the shapes keep
# most rows of another candidate whose id merely contains this one. One taken by mistake
# costs nothing: a timer event redelivered after it only settles again what it settled before.
_TIMER_ID_SHAPES = (("tenure-{cid}-%", r"tenure-{cid}-.+"),
                    ("snooze-%-{cid}-%", r"snooze-.+-{cid}-\d{{4}}-\d{{2}}-\d{{2}}-\d{{8}}T\d+"),
                    ("rescore-%-{cid}", r"rescore-[A-Za-z0-9._-]{{1,40}}-{cid}"),
                    # the form of an id that would be too long: the candidate by a digest
                    ("tenure-{digest}-%", r"tenure-{digest}-[0-9a-f]{{32}}"),
                    ("snooze-{digest}-%", r"snooze-{digest}-[0-9a-f]{{32}}"),
                    ("rescore-%-{digest}-%", r"rescore-[A-Za-z0-9._-]{{1,40}}-{digest}-[0-9a-f]{{32}}"))


def _forget_timer_ids(session: Session, candidate_id: str) -> int:
    """The processed-event rows of the candidate's timer events: their ids hold the id (and a
    tenure's, the employer), and a new life after re-admission must not find its own timers
    already taken."""
    table, found = ProcessedEvent.__table__, set()
    for like, shape in _TIMER_ID_SHAPES:
        pattern = like.format(cid=_like_escaped(candidate_id), digest=id_digest(candidate_id))
        exact = re.compile(shape.format(cid=re.escape(candidate_id), digest=id_digest(candidate_id)))
        found.update(event_id for event_id in session.scalars(select(table.c.event_id).where(
            table.c.stream == "TimerEvent", table.c.event_id.like(pattern, escape="\\")))
            if exact.fullmatch(event_id))
    for part in chunks(sorted(found)):
        session.execute(delete(table).where(table.c.stream == "TimerEvent", table.c.event_id.in_(part)))
    return len(found)


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pseudonymise_audit(session: Session, candidate_id: str) -> None:
    """Audit rows stay (who did what, when) but name the candidate by pseudonym only."""
    name = pseudonym(session, candidate_id)
    session.execute(update(AuditRow).where(AuditRow.target == candidate_id).values(target=name))
    for row in session.scalars(select(AuditRow).where(AuditRow.target.like(f"%/{candidate_id}"))):
        if row.target.endswith(f"/{candidate_id}"):
            row.target = row.target[: -len(candidate_id)] + name


def readmit(session: Session, candidate_id: str, now: datetime) -> None:
    """Consent given again: events about the candidate are taken again. The row stays, with
    the count of erasures: the new life's generation."""
    row = session.get(ErasedCandidate, id_hash(session, candidate_id))
    if row is not None and row.readmitted_at is None:
        row.readmitted_at = now
