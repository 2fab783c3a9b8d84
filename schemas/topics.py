"""Topic names. The first six are the public contract; `radar-timers` and `radar-rekeyed` are internal.

RADAR_TOPIC_PREFIX (default empty) puts every topic under a prefix, for several
deployments or test runs sharing one cluster.
"""
from __future__ import annotations

import os


class Topics:
    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.profile_events = prefix + "profile-events"
        self.interview_notes = prefix + "interview-notes"
        self.role_specs = prefix + "role-specs"
        self.candidate_signals = prefix + "candidate-signals"
        self.match_alerts = prefix + "match-alerts"
        self.dead_letters = prefix + "dead-letters"
        # The scheduler turns time into events here; the worker consumes them.
        self.timers = prefix + "radar-timers"
        # Candidate events whose Kafka key was not their candidate_id, re-keyed so that each
        # candidate's events land on one partition (one worker, in order).
        self.rekeyed = prefix + "radar-rekeyed"

    def physical(self, logical: str) -> str:
        return self.prefix + logical

    def logical(self, physical: str) -> str:
        return physical[len(self.prefix):] if self.prefix and physical.startswith(self.prefix) else physical


TOPICS = Topics(os.environ.get("RADAR_TOPIC_PREFIX", ""))
