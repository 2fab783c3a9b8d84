"""Every topic, once: its logical name, which way it flows, what its key is, what it carries.

All but the last two rows are the public contract; `radar-timers` and `radar-rekeyed` are
internal. A deployment may put every topic under a prefix (RADAR_TOPIC_PREFIX, read by
services.config.Settings): `Topics(prefix)` gives the physical names, `LOGICAL` the
contract's. Topic creation, decoding, the CLI's keys, consumer lag and the JSON Schema
files all read this table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel

from schemas.events import (
    CandidateErased,
    CandidateSignal,
    DeadLetter,
    InterviewNote,
    LeadEvent,
    MatchAlert,
    MatchWithdrawn,
    ProfileEvent,
    RoleSpec,
    TimerEvent,
)


@dataclass(frozen=True)
class TopicSpec:
    name: str                                  # logical name
    direction: str                             # "in" | "out" | "internal"
    key_field: Optional[str]                   # the value's field its key is; None: as received
    models: tuple[type[BaseModel], ...] = ()   # what its messages are; the first decodes inbound ones
    compacted: bool = False                    # latest value per key (role specs)
    single_partition: bool = False             # one owner applies every change in order

    @property
    def inbound(self) -> bool:
        return self.direction in ("in", "internal")


TOPIC_TABLE: tuple[TopicSpec, ...] = (
    TopicSpec("profile-events", "in", "candidate_id", (ProfileEvent,)),
    TopicSpec("interview-notes", "in", "candidate_id", (InterviewNote,)),
    TopicSpec("role-specs", "in", "role_id", (RoleSpec,), compacted=True, single_partition=True),
    TopicSpec("candidate-signals", "out", "candidate_id", (CandidateSignal,)),
    TopicSpec("match-alerts", "out", "role_id", (MatchAlert, MatchWithdrawn)),
    TopicSpec("dead-letters", "out", None, (DeadLetter,)),
    TopicSpec("lead-events", "in", "candidate_id", (LeadEvent,)),
    TopicSpec("candidate-erasures", "out", "candidate_id", (CandidateErased,)),
    # The scheduler turns time into events here; the worker consumes them.
    TopicSpec("radar-timers", "internal", "candidate_id", (TimerEvent,)),
    # Candidate events whose Kafka key was not their candidate_id, re-keyed so that each
    # candidate's events land on one partition (one worker, in order).
    TopicSpec("radar-rekeyed", "internal", "candidate_id"),
)
SPEC_BY_NAME = {spec.name: spec for spec in TOPIC_TABLE}
# Candidate events: keyed by candidate_id, one partition owner applies them in order.
CANDIDATE_TOPICS = tuple(s.name for s in TOPIC_TABLE if s.inbound and s.key_field == "candidate_id" and s.models)


class Topics:
    """Physical topic names under a prefix; attributes are the logical names in snake case."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        for spec in TOPIC_TABLE:
            setattr(self, spec.name.replace("-", "_").replace("radar_", ""), prefix + spec.name)

    profile_events: str
    interview_notes: str
    role_specs: str
    candidate_signals: str
    match_alerts: str
    dead_letters: str
    lead_events: str
    candidate_erasures: str
    timers: str
    rekeyed: str

    def physical(self, logical: str) -> str:
        return self.prefix + logical

    def logical(self, physical: str) -> str:
        return physical[len(self.prefix):] if self.prefix and physical.startswith(self.prefix) else physical

    def all(self) -> list[str]:
        return [self.physical(spec.name) for spec in TOPIC_TABLE]


LOGICAL = Topics()
