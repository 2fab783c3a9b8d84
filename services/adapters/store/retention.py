"""Retention (README, "Erasure and retention"): interview-note text and dead letters are kept
a set number of days. A note then keeps what was learnt from it (skills, readiness, the
follow-up date), not its words; a dead letter, with the value it holds, is deleted."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, update
from sqlalchemy.orm import Session, sessionmaker

from services.adapters.store.models import DeadLetterReplay, Note, OutboxMessage

BATCH = 5000


def purge_note_text(sessions: sessionmaker[Session], now: datetime, keep_days: int) -> int:
    """Empty the text of notes older than `keep_days` (0: keep for good); the number emptied."""
    if keep_days <= 0:
        return 0
    before, total = now - timedelta(days=keep_days), 0
    while True:  # in batches, so a first run over years of notes holds no long lock
        with sessions.begin() as session:
            ids = session.scalars(Note.__table__.select().with_only_columns(Note.event_id)
                                  .where(Note.occurred_at < before, Note.text != "").limit(BATCH)).all()
            if ids:
                session.execute(update(Note).where(Note.event_id.in_(ids)).values(text=""))
        total += len(ids)
        if len(ids) < BATCH:
            return total


def purge_dead_letters(sessions: sessionmaker[Session], dead_letters_topic: str, now: datetime,
                       keep_days: int) -> int:
    """Delete published dead letters older than `keep_days` (0: keep for good), and the marks
    of their replays a week later (so a replay's own dead letter never outlives its mark)."""
    if keep_days <= 0:
        return 0
    with sessions.begin() as session:
        session.execute(delete(DeadLetterReplay).where(
            DeadLetterReplay.replayed_at < now - timedelta(days=keep_days + 7)))
        return session.execute(delete(OutboxMessage).where(and_(
            OutboxMessage.topic == dead_letters_topic, OutboxMessage.sent_at.is_not(None),
            OutboxMessage.created_at < now - timedelta(days=keep_days)))).rowcount or 0
