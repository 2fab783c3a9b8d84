"""The outbox relay's database side: fetch what is unsent, mark what Kafka acknowledged."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.store.db import utcnow
from services.store.models import OutboxMessage


@dataclass(frozen=True)
class PendingMessage:
    id: int
    topic: str
    key: bytes
    value: bytes


class OutboxClaim:
    """Unsent rows claimed for one relay round.

    On PostgreSQL the rows stay locked (FOR UPDATE SKIP LOCKED) until `complete`, so
    several workers relay side by side without sending a row twice; SQLite has one
    writer anyway. Call both methods from the same thread.
    """

    def __init__(self, sessions: sessionmaker[Session], limit: int = 500):
        self.session = sessions()
        query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
        if self.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self.session.scalars(query).all()
        self.messages = [PendingMessage(r.id, r.topic, r.key.encode(),
                                        json.dumps(r.payload, separators=(",", ":")).encode()) for r in rows]

    def complete(self, sent_ids: list[int]) -> None:
        try:
            if sent_ids:
                self.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids))
                                     .values(sent_at=utcnow()))
            self.session.commit()
        finally:
            self.session.close()


def prune_sent(sessions: sessionmaker[Session], keep_days: int = 14) -> int:
    """Sent rows are kept two weeks for the API's recent-alerts view, then removed."""
    with sessions.begin() as session:
        result = session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at < utcnow() - timedelta(days=keep_days)))
        return result.rowcount or 0
