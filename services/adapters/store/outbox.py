"""The outbox relay's database side: claim unsent rows, renew the claim, record the outcome.

A relay claims rows for a short lease (`claimed_by`, `claimed_at`) in a transaction of its
own, publishes them, then marks them sent. While it waits for Kafka's acknowledgements it
renews the lease, so a live relay keeps its rows and a dead one's rows become claimable
again within `lease_s`. A row claimed before (attempts > 0 when claimed again) is *in
doubt*: its first relay may have crashed after Kafka acknowledged it and before marking
it; the relay reads the topic back for it before sending anything (streams/relay.py).

On PostgreSQL the claim skips rows another relay holds locked (FOR UPDATE SKIP LOCKED), so
several workers relay side by side; SQLite has one writer anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from schemas.topics import LOGICAL
from services.adapters.store.db import utcnow
from services.adapters.store.loaders import chunks
from services.adapters.store.models import OutboxMessage
from services.config import TOPICS
from services.json_codec import dumps_bytes

_outbox = OutboxMessage.__table__
MESSAGE_ID_HEADER = "radar-message-id"  # on every published outbox message: how a read-back knows it
ERASURE_NOTICES = LOGICAL.candidate_erasures  # a sent one names whom it erased: it is deleted, not kept


def is_erasure_notice(topic: str) -> bool:
    """The physical topic, under any prefix, is candidate-erasures."""
    return topic.endswith(ERASURE_NOTICES)


@dataclass(frozen=True)
class PendingMessage:
    id: int
    topic: str
    key: Optional[bytes]
    value: bytes
    message_id: str
    created_at: datetime
    # Claimed before and not marked sent: maybe on the topic already; read it back first.
    in_doubt: bool = False
    previous_claim_at: Optional[datetime] = None
    # The broker refused it for good: publish the small dead letter that says so instead.
    failed_reason: Optional[str] = None


@dataclass(frozen=True)
class HeldMessage:
    """An outbox row its writer holds from the start (claimed_by its direct relay, attempts 1):
    the worker publishes it the moment its batch commits, without claiming it first."""
    topic: str
    key: Optional[bytes]
    message_id: str
    payload: dict
    held_at: datetime

    @property
    def value(self) -> bytes:
        return encode_payload(self.payload)


def encode_payload(payload: dict) -> bytes:
    """Compact UTF-8 JSON; non-ASCII text stays as it is (escaping it doubles CJK text)."""
    return dumps_bytes(payload)


class OutboxStore:
    def __init__(self, sessions: sessionmaker[Session], relay_id: str, lease_s: float = 10.0):
        self.sessions = sessions
        self.relay_id = relay_id
        self.lease = timedelta(seconds=lease_s)

    def claim(self, limit: int = 500, now: Optional[datetime] = None) -> list[PendingMessage]:
        """Unsent rows nobody else holds, oldest first, now held by this relay."""
        now = now or utcnow()
        rows_q = (select(OutboxMessage)
                  .where(OutboxMessage.sent_at.is_(None),
                         or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by == self.relay_id,
                             OutboxMessage.claimed_at < now - self.lease))
                  .order_by(OutboxMessage.id).limit(limit))
        with self.sessions.begin() as session:
            if session.bind.dialect.name == "postgresql":
                rows_q = rows_q.with_for_update(skip_locked=True)
            rows = session.scalars(rows_q).all()
            messages = [_pending(row) for row in rows]
            if rows:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                                .values(claimed_by=self.relay_id, claimed_at=now,
                                        attempts=OutboxMessage.attempts + 1))
        return messages

    def renew(self, ids: list[int]) -> None:
        """Keep holding rows whose acknowledgements are still awaited."""
        self._renew(_outbox.c.id, ids)

    def renew_held(self, message_ids: list[str]) -> None:
        """`renew` for rows held from the start (known by message id)."""
        self._renew(_outbox.c.message_id, message_ids)

    def _renew(self, column, keys: list) -> None:
        if not keys:
            return
        with self.sessions.begin() as session:
            for part in chunks(keys):
                session.execute(update(_outbox).where(column.in_(part), _outbox.c.claimed_by == self.relay_id)
                                .values(claimed_at=utcnow()))

    def settle_held(self, sent: list[str], released: list[str], erasures: tuple[str, ...] = ()) -> None:
        """Rows held from the start: mark what Kafka acknowledged as sent (`erasures`: the sent
        erasure notices, which go), and let go of the rest. A row let go keeps attempts 1, so
        the claiming relay reads it back (it may have reached the topic) before it sends it."""
        now = utcnow()
        with self.sessions.begin() as session:
            for part in chunks(sent):
                session.execute(update(_outbox).where(_outbox.c.message_id.in_(part))
                                .values(sent_at=now, claimed_by=None))
            for part in chunks(list(erasures)):
                session.execute(delete(_outbox).where(_outbox.c.message_id.in_(part)))
            for part in chunks(released):
                session.execute(update(_outbox).where(_outbox.c.message_id.in_(part),
                                                            _outbox.c.claimed_by == self.relay_id)
                                .values(claimed_by=None))

    def complete(self, sent: list[int], replaced: dict[int, str], refused: dict[int, str]) -> None:
        """Mark what Kafka acknowledged as sent. `replaced`: rows the broker refused for good
        whose small dead letter was published instead (sent, with the reason); `refused`: such
        rows whose dead letter is still to go out (the reason is kept; a later round sends it)."""
        now = utcnow()
        with self.sessions.begin() as session:
            if sent:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent))
                                .values(sent_at=now, claimed_by=None))
                # an erasure notice names whom it erased: once downstream has it, it goes
                session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(sent),
                                                            OutboxMessage.topic.like(f"%{ERASURE_NOTICES}")))
            for row_id, reason in replaced.items():
                session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                .values(sent_at=now, claimed_by=None, failed_reason=reason[:500]))
            for row_id, reason in refused.items():
                session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                .values(failed_reason=reason[:500]))


def _pending(row: OutboxMessage) -> PendingMessage:
    return PendingMessage(
        id=row.id, topic=row.topic, key=row.key.encode("utf-8", errors="replace") if row.key else None, value=encode_payload(row.payload),
        message_id=row.message_id, created_at=row.created_at, in_doubt=(row.attempts or 0) > 0,
        previous_claim_at=row.claimed_at, failed_reason=row.failed_reason)


def prune_sent(sessions: sessionmaker[Session], keep_days: int = 14) -> int:
    """Sent rows are kept two weeks for the API's recent-alerts view, then removed; dead
    letters stay for `radar dlq` until their own retention (adapters.store.retention)."""
    with sessions.begin() as session:
        result = session.execute(delete(OutboxMessage).where(
            and_(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < utcnow() - timedelta(days=keep_days),
                 OutboxMessage.topic != TOPICS.dead_letters)))
        return result.rowcount or 0


def unsent(session: Session) -> tuple[int, Optional[datetime]]:
    """How many messages wait to be published, and when the oldest of them was written."""
    waiting = OutboxMessage.sent_at.is_(None)
    count = session.scalar(select(func.count()).where(waiting)) or 0
    return count, as_utc(session.scalar(select(func.min(OutboxMessage.created_at)).where(waiting)))
