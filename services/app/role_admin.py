"""Role-spec changes from the API and CLI become messages on `role-specs` (the source of truth)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from schemas import RoleSpec
from services.adapters.store.db import utcnow
from services.adapters.store.loaders import chunks, load_facts
from services.adapters.store.models import RoleSpecRow
from services.adapters.store.notifications import ensure_subscription
from services.adapters.store.queries import candidates_for_role
from services.app.decoding import describe_validation_error
from services.domain.matcher import Role, evaluate
from services.domain.notify import OWNER_ADDRESS, owner_default


class RoleAdminError(ValueError):
    """A role change that cannot be made, said in one line."""


class RoleNotFound(RoleAdminError):
    """No such role (or it was deleted)."""


class InvalidRoleSpec(RoleAdminError):
    """The spec breaks the role-specs contract."""


def validated_spec(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        model = RoleSpec.model_validate(spec)
    except ValidationError as exc:
        raise InvalidRoleSpec(describe_validation_error(exc)) from None
    data = model.model_dump(mode="json")
    data["event_id"] = data.get("event_id") or f"role-{uuid.uuid4()}"
    return data


def role_change_messages(sessions: sessionmaker[Session], action: str, role_id: Optional[str],
                         spec: Optional[dict[str, Any]] = None) -> tuple[str, Optional[dict[str, Any]]]:
    """(key, value) to send: a whole new spec for put/pause/close/reopen, None (tombstone) for delete."""
    if action == "put":
        data = validated_spec(spec or {})
        subscribe_owner(sessions, data["role_id"], data.get("owner"))
        return data["role_id"], data
    with sessions() as session:
        row = session.get(RoleSpecRow, role_id)
        if row is None or row.deleted:
            raise RoleNotFound(f"no role {role_id!r}")
        current = dict(row.spec)
    if action == "delete":
        return role_id, None
    status = {"pause": "paused", "close": "closed", "reopen": "open"}[action]
    current.update(status=status, event_id=None)
    return role_id, validated_spec(current)


def subscribe_owner(sessions: sessionmaker[Session], role_id: str, owner: Optional[str]) -> None:
    """A role's owner gets its alerts by e-mail, as a daily digest, from the start (they may
    change or remove that subscription; a removed one is not made again). The notifier does
    the same for roles that arrive through Kafka, at their first alert."""
    if owner and OWNER_ADDRESS.match(owner):
        with sessions.begin() as session:
            ensure_subscription(session, owner_default(owner), utcnow(), "role-owner", None)


def relevant_now(sessions: sessionmaker[Session], spec: dict[str, Any], now: datetime) -> int:
    """How many stored candidates the spec, opened as it stands, would find relevant now: the
    role path's own indexed search and matcher, nothing written."""
    role = Role.from_spec(RoleSpec.model_validate({**validated_spec(spec), "status": "open"}))
    with sessions() as session:
        ids = candidates_for_role(session, role)
        facts = {}
        for part in chunks(ids):
            facts.update(load_facts(session, part, only_skills=role.wanted))
    return sum(1 for candidate in facts.values() if evaluate(role, candidate, now).relevant)
