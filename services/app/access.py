"""Who may do what: API keys and their roles, OIDC tokens, and the audit log.

Roles are ordered: a viewer reads; a recruiter also acts on leads; an admin also changes
roles, subscriptions, keys, and erases candidates. An API key is shown once, when it is
made, and kept only as its SHA-256 (a key is 32 random bytes: a fast hash is enough).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import desc, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from services.adapters.store import erasure
from services.adapters.store.db import utcnow
from services.adapters.store.models import ApiKeyRow, AuditRow
from services.domain.access import ROLES, Principal

KEY_PREFIX = "rk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


class AccessError(ValueError):
    """A key that cannot be made or revoked, in one line."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(sessions: sessionmaker[Session], name: str, role: str, actor: str = "radar") -> str:
    """Make a key; returns it (the only time it is seen)."""
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    if not _NAME.match(name or ""):
        raise AccessError("name: 1-100 letters, digits and . _ @ + - (starting with a letter or digit)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with sessions.begin() as session:
            session.add(ApiKeyRow(name=name, role=role, key_hash=digest(key), prefix=key[:10], created_at=utcnow()))
            audit(session, Principal(actor, "admin", "cli"), "apikey.create", name, {"role": role})
    except IntegrityError:
        raise AccessError(f"a key named {name!r} exists already (names stay taken after a revoke)") from None
    return key


def revoke_key(sessions: sessionmaker[Session], name: str, actor: str = "radar") -> None:
    with sessions.begin() as session:
        done = session.execute(update(ApiKeyRow).where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
                               .values(revoked_at=utcnow()))
        if not done.rowcount:
            raise AccessError(f"no active key named {name!r}")
        audit(session, Principal(actor, "admin", "cli"), "apikey.revoke", name, {})


def list_keys(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
    return [{"name": r.name, "role": r.role, "prefix": r.prefix, "created_at": as_utc(r.created_at),
             "revoked_at": as_utc(r.revoked_at)} for r in rows]


def any_keys(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return session.scalar(select(ApiKeyRow.name).limit(1)) is not None


def principal_of_key(sessions: sessionmaker[Session], key: str) -> Optional[Principal]:
    if not key.startswith(KEY_PREFIX):
        return None
    with sessions() as session:
        row = session.execute(select(ApiKeyRow.name, ApiKeyRow.role).where(
            ApiKeyRow.key_hash == digest(key), ApiKeyRow.revoked_at.is_(None))).first()
    return Principal(row.name, row.role, "api-key") if row else None


def audit(session: Session, who: Principal, action: str, target: str, detail: dict[str, Any]) -> None:
    session.add(AuditRow(at=utcnow(), actor=who.name[:200], role=who.role, action=action, target=target[:500],
                         detail=detail))


def record(sessions: sessionmaker[Session], who: Principal, action: str, target: str,
           detail: Optional[dict[str, Any]] = None) -> None:
    with sessions.begin() as session:
        audit(session, who, action, target, detail or {})


def record_erasure(sessions: sessionmaker[Session], who: Principal, candidate_id: str) -> None:
    """The erasure request is audited under the candidate's pseudonym, never the id."""
    with sessions.begin() as session:
        audit(session, who, "candidate.erase", erasure.pseudonym(session, candidate_id), {})


def audit_log(sessions: sessionmaker[Session], limit: int = 100, actor: Optional[str] = None,
              since: Optional[datetime] = None) -> list[dict[str, Any]]:
    query = select(AuditRow).order_by(desc(AuditRow.id)).limit(limit)
    if actor:
        query = query.where(AuditRow.actor == actor)
    if since:
        query = query.where(AuditRow.at >= since)
    with sessions() as session:
        rows = session.scalars(query).all()
    return [{"at": as_utc(r.at), "actor": r.actor, "role": r.role, "action": r.action, "target": r.target,
             "detail": r.detail} for r in rows]
