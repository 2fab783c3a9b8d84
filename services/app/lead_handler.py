"""Lead events (a person's action on a lead) and the end of a snooze, as pure handlers."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from schemas import LeadEvent, TimerEvent
from services.app.pairs import RADAR, bring_up_again
from services.domain.context import CandidateContext
from services.domain.effects import Effects, LeadUpdate
from services.domain.leads import LeadChange, apply_change, transition_problem
from services.domain.matcher import RoleIndex
from services.domain.transitions import Trigger


def decide_lead(context: CandidateContext, event: LeadEvent, roles: RoleIndex, now: datetime, rules=None) -> Effects:
    """A status change on a lead: checked against where the lead is, recorded with who and when."""
    lead = context.leads.get(event.role_id)
    if lead is None:
        return Effects(rejected=f"no lead for role {event.role_id} and candidate {event.candidate_id}: "
                                f"a lead starts with the pair's first alert")
    problem = transition_problem(lead.status, event.status)
    if problem:
        return Effects(rejected=f"lead {event.role_id}/{event.candidate_id}: {problem}")
    change = LeadChange(event.event_id, event.status, event.reason, event.assignee, event.note, event.until,
                        event.actor, event.occurred_at)
    changed = apply_change(lead, change, now)
    leads = MappingProxyType({**context.leads, event.role_id: changed})
    return Effects(context=replace(context, leads=leads), leads=[LeadUpdate(changed, new=False, change=change)],
                   candidate_changed=False)


def decide_snooze_end(context: CandidateContext, timer: TimerEvent, roles: RoleIndex, now: datetime) -> Effects:
    """The scheduler's word that a snooze ended: the lead is new again, and a pair still
    relevant alerts once more. A stale word (the lead moved on meanwhile) changes nothing."""
    role_id, until = timer.detail.get("role_id"), timer.detail.get("until")
    lead = context.leads.get(role_id)
    if lead is None or lead.status != "snoozed" or lead.until is None or lead.until.isoformat() != until:
        return Effects(context=context, candidate_changed=False)
    change = LeadChange(timer.event_id, "new", None, None, None, None, RADAR, timer.due_at)
    effects = Effects(leads=[LeadUpdate(apply_change(lead, change, now), new=False, change=change)],
                      candidate_changed=False)
    pairs = dict(context.pairs)
    role, pair = roles.get(role_id), context.pairs.get(role_id)
    if role is not None and pair is not None:
        trigger = Trigger(timer.event_id, change=[f"the snooze until {until} ended"])
        state = bring_up_again(role, context.candidate_id, pair, context.matcher_facts, trigger, now, effects)
        if state is not None:
            pairs[role_id] = state
    leads = MappingProxyType({**context.leads, role_id: effects.leads[0].lead})
    effects.context = replace(context, leads=leads, pairs=MappingProxyType(pairs))
    return effects
