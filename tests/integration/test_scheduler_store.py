"""Scheduler logic against real databases: lease, due follow-ups, tenure windows."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from services.adapters.store.models import FollowUp, OutboxMessage
from services.adapters.store.scheduling import due_follow_ups, mark_fired, release_lease, tenure_checks, try_lease
from services.app.pipeline import Pipeline
from tests.helpers import note, position, profile_event, raw

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_only_one_scheduler_holds_the_lease(sessions):
    assert try_lease(sessions, "a", NOW)
    assert not try_lease(sessions, "b", NOW + timedelta(seconds=10))
    assert try_lease(sessions, "a", NOW + timedelta(seconds=10))  # renewal
    assert try_lease(sessions, "b", NOW + timedelta(seconds=200))  # a died: its lease expired
    release_lease(sessions, "a")  # not a's any more: nothing happens
    assert not try_lease(sessions, "a", NOW + timedelta(seconds=210))
    release_lease(sessions, "b")  # b stops cleanly: a takes over at once
    assert try_lease(sessions, "a", NOW + timedelta(seconds=211))


def test_follow_up_from_a_note_fires_once_and_becomes_revisit_due(sessions):
    pipeline = Pipeline(sessions, clock=lambda: NOW)
    text = "Happy where she is, but asked us to check back in 2 months."
    pipeline.process([raw("interview-notes", note("n-1", "c-1", text, occurred_at="2026-08-01T10:00:00Z"))])
    with sessions() as s:
        [follow_up] = s.scalars(select(FollowUp)).all()
    assert follow_up.due_at.date().isoformat() == "2026-10-01"
    [timer] = due_follow_ups(sessions, NOW)
    assert timer.event_id == "revisit-fu-n-1" and timer.kind == "revisit_due"
    mark_fired(sessions, [timer.detail["follow_up_id"]], NOW)
    assert due_follow_ups(sessions, NOW) == []
    # the worker turns it into a signal, once, even when the scheduler sent it twice
    message = raw("radar-timers", timer.model_dump(mode="json"))
    pipeline.process([message, message])
    with sessions() as s:
        signals = [r.payload for r in s.scalars(select(OutboxMessage)) if r.topic.endswith("candidate-signals")]
    assert [x["type"] for x in signals].count("revisit_due") == 1


def test_not_yet_due_follow_up_waits(sessions):
    pipeline = Pipeline(sessions, clock=lambda: NOW)
    pipeline.process([raw("interview-notes", note("n-2", "c-2", "Check back in 6 months.", occurred_at="2026-11-01T10:00:00Z"))])
    assert due_follow_ups(sessions, NOW) == []
    assert len(due_follow_ups(sessions, NOW + timedelta(days=190))) == 1


def test_tenure_window_emits_once_per_window(sessions):
    pipeline = Pipeline(sessions, clock=lambda: NOW, tenure_windows=(24, 36))
    pipeline.process([raw("profile-events", profile_event("p1", "c-3", positions=[position("Engineer", "Northwind", start="2023-09")]))])
    [timer] = tenure_checks(sessions, NOW, (24, 36))
    assert timer.detail["window_months"] == 36 and timer.kind == "tenure_check"
    result = pipeline.process([raw("radar-timers", timer.model_dump(mode="json"))])
    assert result.counts_by_type == {"tenure_milestone": 1}
    assert tenure_checks(sessions, NOW, (24, 36)) == []


def test_a_tenure_timer_for_a_long_id_and_employer_is_an_id_in_bounds(sessions):
    """tenure-<candidate>-<employer>-<window> can pass the 200 characters of an id: it is then
    named by digests, and the daily job still emits it (it once failed validation: no timer for anyone)."""
    long_id, employer = "c-" + "7" * 190, "Northwind " + "Holdings " * 20
    pipeline = Pipeline(sessions, clock=lambda: NOW, tenure_windows=(24, 36))
    pipeline.process([raw("profile-events", profile_event("p1", long_id,
                                                          positions=[position("Engineer", employer, start="2023-09")]))])
    [timer] = tenure_checks(sessions, NOW, (24, 36))
    assert len(timer.event_id) <= 200 and timer.event_id.startswith("tenure-") and long_id not in timer.event_id
    assert tenure_checks(sessions, NOW, (24, 36))[0].event_id == timer.event_id  # the same timer, the same id
    result = pipeline.process([raw("radar-timers", timer.model_dump(mode="json"))])
    assert result.counts_by_type == {"tenure_milestone": 1} and tenure_checks(sessions, NOW, (24, 36)) == []
