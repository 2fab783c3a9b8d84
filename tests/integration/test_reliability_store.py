"""One bad record never stops a batch: the pipeline against real databases (SQLite and
PostgreSQL). What retrying cannot fix is dead-lettered alone; what it can fix is raised."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from schemas import ProfileEvent
from services.adapters.store.heartbeats import WorkerPulse, beat, worker_health
from services.adapters.store.models import Candidate, OutboxMessage
from services.adapters.store.writer import BatchWriter
from services.app.handlers import CANDIDATE_HANDLERS
from services.app.pipeline import Pipeline
from tests.helpers import note, position, profile_event, raw, role_spec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def letters(sessions):
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [r.payload for r in rows if r.topic.endswith("dead-letters")]


def candidate(cid, event_id=None, **profile):
    profile.setdefault("skills", ["Python", "Kafka"])
    profile.setdefault("positions", [position("Senior Data Engineer", "Northwind")])
    return raw("profile-events", profile_event(event_id or f"p-{cid}", cid, **profile), key=cid)


def stored_candidates(sessions):
    with sessions() as s:
        return set(s.scalars(select(Candidate.candidate_id)))


def test_the_issue_inputs_are_dead_letters_with_reasons_and_the_rest_is_stored(sessions):
    p = Pipeline(sessions, clock=lambda: NOW)
    p.process_safely([raw("role-specs", role_spec("r-1", must_have=["Python"], nice_to_have=[]))])
    hostile = [
        raw("profile-events", profile_event("b1", "c-b1", source="x" * 70, skills=["Python"])),
        candidate("c-b2", positions=[position("Engineer", "C" * 201)]),
        candidate("c-b3", location="L" * 121),
        candidate("c-b4", skills=["S" * 101]),
        raw("interview-notes", dict(note("b5", "c-b5", "Strong in Kafka."), author="a" * 201)),
        raw("profile-events", b"{not json", key="k" * 300),
        raw("profile-events", b"[" * 100_000),
        raw("interview-notes", note("b8", "c-b8", "Knows Kafka.\x00")),
        raw("profile-events", b'{"event_id": "b9", "candidate_id": "\\udfff", "source": "x", '
                              b'"occurred_at": "2026-11-20T10:00:00Z", "profile": {}}'),
    ]
    good = [candidate(f"c-{i}") for i in range(5)]
    # the 36-character source of the issue is valid: it must be stored, not refused
    good.append(raw("profile-events", profile_event("g-src", "c-src", source="linkedin-recruiter-export-v2-2026-q1",
                                                    skills=["Python"], positions=[position("Engineer", "A")])))
    batch = [r for pair in zip(hostile, good + good[:3]) for r in pair]
    result = p.process_safely(batch)
    assert result.dead_letters == len(hostile)
    assert stored_candidates(sessions) >= {f"c-{i}" for i in range(5)} | {"c-src"}
    reasons = [letter["error"] for letter in letters(sessions)]
    assert len(reasons) == len(hostile)
    assert any("source: at most 64 characters, got 70" in r for r in reasons)
    assert any("profile.positions.0.company: at most 200 characters, got 201" in r for r in reasons)
    assert any("profile.location: at most 120 characters, got 121" in r for r in reasons)
    assert any("profile.skills.0: at most 100 characters, got 101" in r for r in reasons)
    assert any("author: at most 200 characters, got 201" in r for r in reasons)
    assert any("nested deeper than" in r for r in reasons)
    assert any("NUL" in r for r in reasons) and any("surrogate" in r for r in reasons)
    long_key = next(letter for letter in letters(sessions) if letter["key"] and len(letter["key"]) == 300)
    assert "malformed JSON" in long_key["error"]


def wrap_profile_handler(monkeypatch, change):
    """Replace the profile handler by one that hands its effects to `change` first."""
    original = CANDIDATE_HANDLERS[ProfileEvent]

    def handler(context, event, *args):
        return change(event, original(context, event, *args))

    monkeypatch.setitem(CANDIDATE_HANDLERS, ProfileEvent, handler)


def test_a_record_that_breaks_a_handler_is_isolated_with_where_it_broke(sessions, monkeypatch):
    p = Pipeline(sessions, clock=lambda: NOW)

    def breaks(event, effects):
        if event.candidate_id == "c-bug":
            raise KeyError("Zelda Example")  # a defect whose message carries personal data
        return effects

    wrap_profile_handler(monkeypatch, breaks)
    result = p.process_safely([candidate("c-1"), candidate("c-bug"), candidate("c-2")])
    assert result.processed == 2 and result.dead_letters == 1
    assert stored_candidates(sessions) == {"c-1", "c-2"}
    [letter] = letters(sessions)
    assert letter["error"].startswith("processing failed: KeyError at tests/integration/test_reliability_store.py:")
    assert "Zelda" not in letter["error"] and letter["value"] is not None


def test_a_database_refusal_is_isolated_not_retried_forever(sessions, monkeypatch):
    """An integrity error the record itself causes (here: the same skill row written twice)
    fails the same way on every retry: dead-lettered, and the batch goes on."""
    p = Pipeline(sessions, clock=lambda: NOW)

    def clashes(event, effects):
        if event.candidate_id == "c-clash":
            effects.skills = effects.skills + effects.skills[:1]
        return effects

    wrap_profile_handler(monkeypatch, clashes)
    result = p.process_safely([candidate("c-1"), candidate("c-clash"), candidate("c-2")])
    assert result.dead_letters == 1 and stored_candidates(sessions) == {"c-1", "c-2"}
    [letter] = letters(sessions)
    assert letter["error"].startswith("the database refused it: ")
    assert "c-clash" not in letter["error"]  # the driver's first line only: no values


def test_a_value_postgresql_refuses_for_its_length_is_isolated(sessions, monkeypatch):
    """Were a column ever narrower than its bound, PostgreSQL's refusal is a dead letter too
    (SQLite stores any length, so there the record is simply stored)."""
    p = Pipeline(sessions, clock=lambda: NOW)

    def too_long(event, effects):
        if event.candidate_id == "c-long":
            effects.skills = [replace(skill, origin="o" * 500) for skill in effects.skills]
        return effects

    wrap_profile_handler(monkeypatch, too_long)
    result = p.process_safely([candidate("c-1"), candidate("c-long")])
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert result.dead_letters == 1 and stored_candidates(sessions) == {"c-1"}
        assert "the database refused it: value too long for type character varying(72)" in letters(sessions)[0]["error"]
    else:
        assert result.dead_letters == 0 and stored_candidates(sessions) == {"c-1", "c-long"}


def test_transient_database_errors_are_raised_for_the_batch_to_be_retried(sessions, monkeypatch):
    p = Pipeline(sessions, clock=lambda: NOW)

    def lost_connection(records):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(p, "process", lost_connection)
    with pytest.raises(OperationalError):
        p.process_safely([candidate("c-1")])
    assert letters(sessions) == []


def test_a_dead_letter_whose_value_cannot_be_stored_is_stored_without_it(sessions, monkeypatch):
    p = Pipeline(sessions, clock=lambda: NOW)
    original = BatchWriter.add_message

    def add_message(self, message, dedupe=False):
        if message.payload.get("value") is not None and message.topic == "dead-letters":
            raise ValueError("this value cannot be stored")
        return original(self, message, dedupe)

    monkeypatch.setattr(BatchWriter, "add_message", add_message)
    result = p.process_safely([raw("profile-events", b"{not json")])
    assert result.dead_letters == 1
    [letter] = letters(sessions)
    assert letter["value"] is None and "malformed JSON" in letter["error"]
    assert letter["error"].endswith("the original value could not be stored with it")


def test_a_worker_retrying_too_long_or_silent_is_a_health_problem(sessions):
    started = NOW - timedelta(minutes=5)
    beat(sessions, WorkerPulse("w-ok", started_at=started, last_batch_at=NOW))
    beat(sessions, WorkerPulse("w-stuck", started_at=started, retrying_since=datetime.now(timezone.utc)
                               - timedelta(seconds=90), last_error="store: OperationalError at x.py:1"))
    with sessions() as session:
        health = {w["worker_id"]: w for w in worker_health(session, stall_after_s=60)}
    assert health["w-ok"]["problem"] is None
    assert health["w-stuck"]["problem"].startswith("batch retrying for 9")
    assert "OperationalError" in health["w-stuck"]["problem"]
    with sessions() as session:
        later = {w["worker_id"]: w for w in worker_health(session, 60, datetime.now(timezone.utc) + timedelta(minutes=2))}
    assert later["w-ok"]["problem"].startswith("silent for")
