"""The candidate context: everything the handlers know of one candidate, as plain frozen data.

The store loads it (services.adapters.store.loaders), a handler returns a new one with its
Effects, and the batch writer stores what changed. Nothing here touches a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping, Optional

from services.domain.leads import Lead
from services.domain.matcher import CandidateFacts, SkillFact

EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True)
class Interest:
    """The newest statement of interest (or its opposite) in a note."""
    kind: str       # "interested" | "not_looking"
    surface: str    # the note's words
    on: str         # ISO date of the note
    note: str       # the note's event id


@dataclass(frozen=True)
class Facts:
    """What the pipeline learnt of a candidate beyond the profile: moves, stated interest,
    follow-ups, the tenure windows already signalled. Stored as JSON beside the view."""
    last_move_on: Optional[str] = None            # ISO date of the last role change or promotion
    last_move_type: Optional[str] = None          # "role_change" | "promotion"
    interest: Optional[Interest] = None
    next_follow_up_on: Optional[str] = None       # a later time a note named ("check back in 6 months")
    next_follow_up_said: Optional[str] = None
    revisit_due_on: Optional[str] = None          # a follow-up that came due
    tenure_windows_done: Mapping[str, int] = field(default_factory=lambda: EMPTY)  # employer key -> window signalled

    @classmethod
    def from_json(cls, data: Optional[Mapping[str, Any]]) -> "Facts":
        data = data or {}
        interest = data.get("interest")
        return cls(
            last_move_on=data.get("last_move_on"), last_move_type=data.get("last_move_type"),
            interest=Interest(interest["kind"], interest["surface"], interest["on"], interest.get("note", ""))
            if interest else None,
            next_follow_up_on=data.get("next_follow_up_on"), next_follow_up_said=data.get("next_follow_up_said"),
            revisit_due_on=data.get("revisit_due_on"),
            tenure_windows_done=MappingProxyType(dict(data.get("tenure_windows_done") or {})),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form: only what is known, under the keys stored before this type existed."""
        data: dict[str, Any] = {
            "last_move_on": self.last_move_on, "last_move_type": self.last_move_type,
            "next_follow_up_on": self.next_follow_up_on, "next_follow_up_said": self.next_follow_up_said,
            "revisit_due_on": self.revisit_due_on,
        }
        if self.interest is not None:
            data["interest"] = {"kind": self.interest.kind, "surface": self.interest.surface,
                                "on": self.interest.on, "note": self.interest.note}
        if self.tenure_windows_done:
            data["tenure_windows_done"] = dict(self.tenure_windows_done)
        return {key: value for key, value in data.items() if value is not None}

    def with_tenure_window(self, employer: Optional[str], window: int) -> "Facts":
        return replace(self, tenure_windows_done=MappingProxyType({**self.tenure_windows_done, str(employer): window}))


@dataclass(frozen=True)
class Snapshot:
    """One source's newest snapshot: what it stated, and when it last stated each field."""
    source: str
    event_id: str
    occurred_at: datetime
    profile: Mapping[str, Any]
    stated_at: Mapping[str, str]   # field -> ISO time of the snapshot that last stated it


@dataclass(frozen=True)
class PairState:
    """A (role, candidate) pair's place in the alert state machine."""
    relevant: bool
    fit: float
    readiness: float
    transitions: int
    last_alert_id: Optional[str]
    silent: bool = False  # entered relevance with its alert held back (a lead's feedback): no withdrawal either
    generation: int = 0   # the candidate's, when the pair was loaded (CandidateContext.generation); not stored


@dataclass(frozen=True)
class CandidateContext:
    candidate_id: str
    stored: bool = False                                  # the store holds this candidate already
    view: Optional[Mapping[str, Any]] = None              # the merged profile (profile.merge_snapshots)
    facts: Facts = Facts()
    snapshots: Mapping[str, Snapshot] = field(default_factory=lambda: EMPTY)       # by source
    skills: Mapping[str, SkillFact] = field(default_factory=lambda: EMPTY)         # by canonical skill
    do_not_contact: bool = False
    readiness: float = 0.0
    readiness_reasons: tuple[str, ...] = ()
    pairs: Mapping[str, PairState] = field(default_factory=lambda: EMPTY)          # by role id: every pair ever relevant
    leads: Mapping[str, Lead] = field(default_factory=lambda: EMPTY)               # by role id: pairs people act on
    # How many times the candidate was erased on request before this life began (0: never).
    # It is part of the ids of what its pairs send, so a life after re-admission never
    # repeats an id of an earlier one (services.domain.transitions.pair_message_id).
    generation: int = 0

    @cached_property
    def matcher_facts(self) -> CandidateFacts:
        """What the matcher needs, built once per context (contexts never change)."""
        return matcher_facts(self.candidate_id, self.view, self.do_not_contact, self.readiness,
                             self.readiness_reasons, self.skills)

    def relevant_roles(self) -> list[str]:
        return [role_id for role_id, pair in self.pairs.items() if pair.relevant]


def matcher_facts(candidate_id: str, view: Optional[Mapping[str, Any]], do_not_contact: bool, readiness: float,
                  readiness_reasons, skills: Mapping[str, SkillFact]) -> CandidateFacts:
    view = view or {}
    current = view.get("current") or {}
    return CandidateFacts(
        candidate_id=candidate_id, skills=dict(skills), company=current.get("company"),
        seniority=view.get("seniority"), location=view.get("location"),
        years_experience=view.get("years_experience"), industry=current.get("industry"),
        do_not_contact=bool(do_not_contact), readiness=readiness or 0.0,
        readiness_reasons=list(readiness_reasons or []),
    )
