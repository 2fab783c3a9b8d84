"""Settling (role, candidate) pairs, for candidate and role events alike: the pair state
machine (services.domain.transitions), what people said of the lead (services.domain.leads),
and the lead a first alert starts. Pure: it gathers what to store in the Effects it is given."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Sequence

from schemas.topics import LOGICAL
from services.domain.context import PairState
from services.domain.effects import Effects, HeldBack, LeadUpdate
from services.domain.leads import CLOSED, Lead, LeadChange, apply_change, holds_back
from services.domain.matcher import CandidateFacts, Evaluation, Role, evaluate
from services.domain.transitions import Trigger, enter, pair_message_id, settle

RADAR = "radar"  # the actor of what the service itself does to a lead


def settle_pair(role: Role, candidate_id: str, pair: Optional[PairState], lead: Optional[Lead],
                evaluation: Evaluation, readiness: float, trigger: Trigger, now: datetime,
                effects: Effects, generation: int = 0) -> tuple[Optional[PairState], Optional[Lead]]:
    """Settle one pair into `effects`; returns its new state and its new lead (None: unchanged).
    `generation` is the candidate's (CandidateContext.generation): part of the ids from 1 on."""
    settled = settle(role, candidate_id, pair, evaluation, readiness, trigger, now, LOGICAL.match_alerts,
                     hold_back=holds_back(lead, role, now), generation=generation)
    if settled.update is not None:
        effects.pairs.append(settled.update)
    if settled.held_back:
        state = settled.update.state
        would_be = pair_message_id("al", role.role_id, candidate_id, state.transitions, state.generation)
        kind = "closed" if lead.status in CLOSED else lead.status
        effects.held_back.append(HeldBack(role.role_id, candidate_id, would_be, settled.held_back,
                                          trigger.event_id, now, kind))
    new_lead = None
    if settled.message is not None:
        effects.messages.append(settled.message)
        alert_id = settled.message.message_id
        if settled.message.payload["type"] != "match.alert":
            pass
        elif lead is None:
            new_lead = first_alert_lead(role.role_id, candidate_id, alert_id, trigger, readiness, now)
            effects.leads.append(LeadUpdate(new_lead, new=True, change=_by_radar(alert_id, now)))
        elif lead.status == "not_a_fit":  # alerting again (the role changed, or a signal touched it): back in the inbox
            new_lead = apply_change(lead, _by_radar(alert_id, now), now)
            effects.leads.append(LeadUpdate(new_lead, new=False, change=_by_radar(alert_id, now)))
    return (settled.update.state if settled.update else None), new_lead


def _by_radar(event_id: str, now: datetime) -> LeadChange:
    return LeadChange(event_id, "new", None, None, None, None, RADAR, now)


def first_alert_lead(role_id: str, candidate_id: str, alert_id: str, trigger: Trigger, readiness: float,
                     now: datetime) -> Lead:
    return Lead(role_id, candidate_id, "new", created_at=now, first_alert_id=alert_id,
                first_signals=tuple(sorted(set(trigger.signal_types))), readiness_at_alert=readiness, updated_at=now,
                updated_by=RADAR)


@dataclass(frozen=True)
class RoleCandidate:
    """A candidate a role change may affect: what the matcher needs, the pair and its lead."""
    candidate_id: str
    facts: CandidateFacts
    pair: Optional[PairState]
    lead: Optional[Lead] = None
    generation: int = 0  # times erased before this life (CandidateContext.generation)


def decide_role(candidates: Sequence[RoleCandidate], role: Role, trigger: Trigger, now: datetime) -> Effects:
    """A role created, changed, paused, closed, reopened or deleted, settled for one chunk of
    the candidates it can affect (those that could meet it, and those relevant to it now).
    A role that changed lifts the not_a_fit holds set before (role.changed_at is now)."""
    effects = Effects()
    for candidate in candidates:
        settle_pair(role, candidate.candidate_id, candidate.pair, candidate.lead, evaluate(role, candidate.facts, now),
                    candidate.facts.readiness, trigger, now, effects, candidate.generation)
    return effects


def bring_up_again(role: Role, candidate_id: str, pair: PairState, facts: CandidateFacts, trigger: Trigger,
                   now: datetime, effects: Effects) -> Optional[PairState]:
    """A snooze ended: a pair still relevant alerts again, once (a new transition and id)."""
    evaluation = evaluate(role, facts, now)
    if not (pair.relevant and evaluation.relevant):
        return None
    settled = enter(role, candidate_id, pair, evaluation, facts.readiness, trigger, now, LOGICAL.match_alerts)
    effects.pairs.append(settled.update)
    effects.messages.append(settled.message)
    return settled.update.state
