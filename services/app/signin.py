"""Signing in to the web pages: a one-time link (`radar up` prints one) or an API key gives
a session cookie. Both are HS256 tokens signed with a key the service makes once and keeps in
the database; a session stays valid only while the API key it came from is not revoked, and
carries that key's role as it is now."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Optional

import jwt
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.adapters.store.db import utcnow
from services.adapters.store.kept_secrets import kept_secret
from services.adapters.store.models import ApiKeyRow, RadarSecret
from services.app.access import principal_of_key
from services.domain.access import Principal

SIGNING_KEY = "web-signing-key"
USED_LINK = "used-login:"  # + the link's id: a link signs in once
ENDED = "signed-out:"  # + a session's id: signed out before it expired
SESSION_HOURS = 12
LINK_MINUTES = 60
_ALGORITHM = "HS256"


@lru_cache(maxsize=16)
def signing_key(sessions: sessionmaker[Session]) -> str:
    """This deployment's key for session tokens, made on first use; it never changes, so each
    process reads it once (not on every page)."""
    with sessions.begin() as session:
        return kept_secret(session, SIGNING_KEY)


def sign_in_link_token(sessions: sessionmaker[Session], key_name: str) -> Optional[str]:
    """A token for one sign-in as the holder of the key `key_name` (None when it is revoked or
    unknown), valid for LINK_MINUTES."""
    if _active_key(sessions, key_name) is None:
        return None
    now = utcnow()
    claims = {"sub": key_name, "purpose": "sign-in", "jti": secrets.token_hex(12), "iat": now,
              "exp": now + timedelta(minutes=LINK_MINUTES)}
    return jwt.encode(claims, signing_key(sessions), algorithm=_ALGORITHM)


def redeem_link(sessions: sessionmaker[Session], token: str) -> Optional[Principal]:
    """The signer-in of a one-time link, once; None for a link used, expired, forged or of a
    revoked key."""
    claims = _claims(sessions, token, "sign-in")
    if claims is None or not isinstance(claims.get("jti"), str):
        return None
    try:
        with sessions.begin() as session:
            session.execute(insert(RadarSecret).values(name=(USED_LINK + claims["jti"])[:60],
                                                       value=utcnow().isoformat()))
    except IntegrityError:
        return None  # used before
    return _principal(sessions, claims["sub"])


def session_for_key(sessions: sessionmaker[Session], api_key: str) -> Optional[tuple[Principal, str]]:
    """Who the API key is and a session token for them; None for a key that is not valid."""
    who = principal_of_key(sessions, api_key.strip())
    if who is None:
        return None
    return who, session_token(sessions, who.name)


def session_token(sessions: sessionmaker[Session], key_name: str) -> str:
    row = _active_key(sessions, key_name)
    now = utcnow()
    claims = {"sub": key_name, "purpose": "session", "kp": row.prefix if row else "", "iat": now,
              "jti": secrets.token_hex(12), "exp": now + timedelta(hours=SESSION_HOURS)}
    return jwt.encode(claims, signing_key(sessions), algorithm=_ALGORITHM)


def principal_of_session(sessions: sessionmaker[Session], token: str) -> Optional[Principal]:
    """The signed-in person, while their session runs and their key is not revoked (nor made
    again under the same name)."""
    claims = _claims(sessions, token, "session")
    if claims is None:
        return None
    row = _active_key(sessions, claims["sub"])
    if row is None or row.prefix != claims.get("kp") or _ended(sessions, claims.get("jti")):
        return None
    return Principal(row.name, row.role, "session")


def end_session(sessions: sessionmaker[Session], token: str) -> None:
    """Signing out: the session's token is refused from now on, even if a copy of the cookie
    is kept (remembered until it would have expired anyway; older such marks are dropped)."""
    claims = _claims(sessions, token, "session")
    if claims is None or not isinstance(claims.get("jti"), str):
        return
    now = utcnow()
    with sessions.begin() as session:
        session.execute(delete(RadarSecret).where(RadarSecret.name.like(ENDED + "%"),
                                                  RadarSecret.value < now.isoformat()))
        if session.get(RadarSecret, ENDED + claims["jti"]) is None:
            expires = datetime.fromtimestamp(claims["exp"], timezone.utc)
            session.add(RadarSecret(name=ENDED + claims["jti"], value=expires.isoformat()))


def _ended(sessions: sessionmaker[Session], jti: Optional[str]) -> bool:
    if not isinstance(jti, str):
        return True  # every session this service gives out has one
    with sessions() as session:
        return session.get(RadarSecret, ENDED + jti) is not None


def _claims(sessions: sessionmaker[Session], token: str, purpose: str) -> Optional[dict]:
    try:
        claims = jwt.decode(token, signing_key(sessions), algorithms=[_ALGORITHM],
                            options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return claims if claims.get("purpose") == purpose and isinstance(claims.get("sub"), str) else None


def _principal(sessions: sessionmaker[Session], key_name: str) -> Optional[Principal]:
    row = _active_key(sessions, key_name)
    return Principal(row.name, row.role, "session") if row else None


def _active_key(sessions: sessionmaker[Session], key_name: str):
    with sessions() as session:
        return session.execute(select(ApiKeyRow.name, ApiKeyRow.role, ApiKeyRow.prefix).where(
            ApiKeyRow.name == key_name, ApiKeyRow.revoked_at.is_(None))).first()
