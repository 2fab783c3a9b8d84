"""Values a deployment makes once and keeps in its database, never outside it (the erasure
salt, the key that signs the pages' sessions)."""
from __future__ import annotations

import secrets
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.adapters.store.models import RadarSecret


def kept_secret(session: Session, name: str) -> str:
    """The value kept under `name`, made by the first process that asks; one asking at the
    same moment keeps nothing of its own and reads the first one's."""
    value = session.scalar(select(RadarSecret.value).where(RadarSecret.name == name))
    if value is None:
        session.execute(insert_ignoring(session, RadarSecret.__table__, {"name": name, "value": secrets.token_hex(32)},
                                        ["name"]))
        value = session.scalar(select(RadarSecret.value).where(RadarSecret.name == name))
    return value


def insert_ignoring(session: Session, table, row: dict[str, Any], keys: Iterable[str]):
    """INSERT that leaves a row already there under the same keys (PostgreSQL and SQLite)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**row).on_conflict_do_nothing(index_elements=list(keys))
