"""Topic names. The first six are the public contract; `radar-timers` is internal."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    profile_events: str = "profile-events"
    interview_notes: str = "interview-notes"
    role_specs: str = "role-specs"
    candidate_signals: str = "candidate-signals"
    match_alerts: str = "match-alerts"
    dead_letters: str = "dead-letters"
    # The scheduler turns time into events here; the worker consumes them.
    timers: str = "radar-timers"


TOPICS = Topics()
