"""What a handler decided, as plain data: the new context, and each row and message to store.

A handler (services.app.handlers) returns Effects and touches nothing; the batch writer
(services.adapters.store.writer) turns them into rows and outbox messages, in the batch's
one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from services.domain.context import CandidateContext, Snapshot
from services.domain.leads import Lead, LeadChange
from services.domain.transitions import Outgoing, PairUpdate


@dataclass(frozen=True)
class NewSkill:
    candidate_id: str
    skill: str
    origin: str          # "profile:<source>" or "note"
    evidence: str
    source_event_id: str
    first_seen_at: datetime


@dataclass(frozen=True)
class SignalRecord:
    signal_id: str
    candidate_id: str
    type: str
    detail: dict[str, Any]
    evidence: str
    source_event_id: str
    occurred_at: datetime
    detected_at: datetime


@dataclass(frozen=True)
class NoteRecord:
    event_id: str
    candidate_id: str
    role_id: Optional[str]
    author: Optional[str]
    kind: str
    occurred_at: datetime
    text: str
    extraction: dict[str, Any]


@dataclass(frozen=True)
class FollowUpRecord:
    follow_up_id: str
    candidate_id: str
    due_at: datetime
    note_event_id: str
    surface: str


@dataclass(frozen=True)
class LeadUpdate:
    lead: Lead
    new: bool                           # no row yet
    change: Optional[LeadChange] = None  # the line its history gains, if any


@dataclass(frozen=True)
class HeldBack:
    """An alert that did not go out because of what people said of the lead."""
    role_id: str
    candidate_id: str
    alert_id: str
    reason: str
    event_id: str
    at: datetime
    kind: str = "not_a_fit"  # not_a_fit | snoozed | closed


@dataclass
class Effects:
    """The outcome of one event for one candidate (or of one role change for a chunk of them)."""
    context: Optional[CandidateContext] = None      # the candidate after the event (None: a role change)
    created: bool = False                           # the candidate had no row before this event
    snapshot: Optional[Snapshot] = None             # a source's snapshot to store
    snapshot_created: bool = False
    places: Optional[tuple[str, ...]] = None        # the candidate's places, when they changed
    skills: list[NewSkill] = field(default_factory=list)
    skills_dropped: tuple[str, ...] = ()            # keys whose rows go (a rescore read them again)
    note: Optional[NoteRecord] = None
    follow_up: Optional[FollowUpRecord] = None
    signals: list[SignalRecord] = field(default_factory=list)
    pairs: list[PairUpdate] = field(default_factory=list)
    messages: list[Outgoing] = field(default_factory=list)
    leads: list[LeadUpdate] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    stale: bool = False                             # an older snapshot than one applied: nothing changes
    candidate_changed: bool = True                  # False: the candidate's own row stays as it is (a lead event)
    rejected: Optional[str] = None                  # the event cannot be applied: dead-letter it with this

    @property
    def alerts(self) -> int:
        return sum(1 for m in self.messages if m.payload.get("type") == "match.alert")

    @property
    def withdrawals(self) -> int:
        return sum(1 for m in self.messages if m.payload.get("type") == "match.withdrawn")
