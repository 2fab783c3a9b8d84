"""Retention (SQLite and PostgreSQL): note text older than its days is emptied while what was
learnt from the note stays; published dead letters older than theirs are deleted; 0 keeps."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from services.adapters.store.models import FollowUp, Note, OutboxMessage
from services.adapters.store.retention import purge_dead_letters, purge_note_text
from services.app.pipeline import Pipeline
from services.config import TOPICS
from tests.helpers import note, raw

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_note_text_and_dead_letters_past_their_days_go(sessions):
    pipeline = Pipeline(sessions)
    pipeline.process([raw("interview-notes", note("n-old", "c-1", "Strong in Kafka; check back in 6 months.",
                                                  occurred_at="2025-10-01T10:00:00Z"), key="c-1"),
                      raw("interview-notes", note("n-new", "c-1", "Knows Flink well.",
                                                  occurred_at="2026-11-20T10:00:00Z"), key="c-1"),
                      raw("profile-events", b"{not json", key="c-2")])
    with sessions.begin() as session:  # the dead letter was written (and published) 40 days ago
        session.execute(update(OutboxMessage).values(sent_at=NOW - timedelta(days=40),
                                                     created_at=NOW - timedelta(days=40)))
    assert purge_note_text(sessions, NOW, keep_days=0) == 0  # 0: kept for good
    assert purge_note_text(sessions, NOW, keep_days=365) == 1
    assert purge_note_text(sessions, NOW, keep_days=365) == 0  # done once
    with sessions() as session:
        notes = {n.event_id: n for n in session.scalars(select(Note))}
        follow_ups = session.scalars(select(FollowUp)).all()
    assert notes["n-old"].text == "" and notes["n-old"].extraction["skills"]  # what was learnt stays
    assert notes["n-new"].text == "Knows Flink well." and follow_ups
    assert purge_dead_letters(sessions, TOPICS.dead_letters, NOW, keep_days=60) == 0
    assert purge_dead_letters(sessions, TOPICS.dead_letters, NOW, keep_days=30) == 1
    with sessions() as session:
        left = session.scalars(select(OutboxMessage.topic)).all()
    assert TOPICS.dead_letters not in left
