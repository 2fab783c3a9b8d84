"""Leads: what people do with an alert, and how it changes what is sent next.

A lead is a (role, candidate) pair someone has been told of: it starts `new` with the pair's
first alert, and moves along new → reviewed → contacted → replied → handed_off →
interviewing → hired, or to not_a_fit (with a reason), snoozed (until a date), rejected,
withdrawn_by_candidate. Every change records who made it and when.

Feedback changes what is sent: a pair marked not_a_fit does not alert again when it
re-enters relevance, unless the role spec changed afterwards or the candidate showed a new
signal that touches the role (a new must-have or nice-to-have skill, a move into one of its
places or levels); a snoozed pair alerts again, if still relevant, when the snooze ends; a
hired, rejected or withdrawn pair is closed. An alert held back is recorded with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Optional, Sequence

from services.domain import ladder, places
from services.domain.matcher import Role
from services.domain.signals import DetectedSignal

PIPELINE = ("new", "reviewed", "contacted", "replied", "handed_off", "interviewing", "hired")
CLOSED = ("hired", "rejected", "withdrawn_by_candidate")
STAGE = {status: rank for rank, status in enumerate(PIPELINE)}


@dataclass(frozen=True)
class Lead:
    role_id: str
    candidate_id: str
    status: str
    created_at: datetime                      # the pair's first alert
    first_alert_id: str
    first_signals: tuple[str, ...]            # the signal types of the event behind the first alert
    readiness_at_alert: float
    reason: Optional[str] = None              # why not a fit
    assignee: Optional[str] = None            # the recruiter a sourcer handed it to
    note: Optional[str] = None
    until: Optional[date] = None              # snoozed until
    blocked_at: Optional[datetime] = None     # marked not a fit then: re-entry alerts are held back
    furthest: int = 0                         # the furthest stage of PIPELINE it has reached
    first_action_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    updated_by: Optional[str] = None


@dataclass(frozen=True)
class LeadChange:
    """One line of a lead's history."""
    event_id: str
    status: str
    reason: Optional[str]
    assignee: Optional[str]
    note: Optional[str]
    until: Optional[date]
    actor: Optional[str]
    occurred_at: datetime


def transition_problem(current: str, wanted: str) -> Optional[str]:
    """Why a lead cannot go from `current` to `wanted` (None: it can)."""
    if wanted == current:
        return None  # the same status again: a new note, another assignee
    if current in CLOSED:
        return f"the lead is closed ({current}); it cannot become {wanted}"
    if wanted == "new" and current not in ("reviewed", "not_a_fit", "snoozed"):
        return f"a lead that is {current} cannot go back to new"
    if current == "not_a_fit" and wanted not in ("new", "reviewed", "rejected"):
        return f"a lead marked not_a_fit can be reconsidered (new, reviewed) or rejected, not made {wanted}"
    if wanted in STAGE and current in STAGE and STAGE[wanted] < STAGE[current] and wanted != "new":
        return f"a lead cannot go back from {current} to {wanted}"
    if wanted == "not_a_fit" and current in ("handed_off", "interviewing"):
        return f"a lead that is {current} is rejected, not marked not_a_fit"
    return None


def apply_change(lead: Lead, change: LeadChange, now: datetime) -> Lead:
    """The lead after a change. A not_a_fit hold is dated by the service's clock (`now`), the
    clock role changes are dated by, so one producer's clock cannot reorder them."""
    stage = STAGE.get(change.status)
    # never before the lead began: a change sent before its alert (and replayed) counts from then
    acted = lead.first_action_at or (max(change.occurred_at, lead.created_at) if change.status != "new" else None)
    return Lead(
        role_id=lead.role_id, candidate_id=lead.candidate_id, status=change.status, created_at=lead.created_at,
        first_alert_id=lead.first_alert_id, first_signals=lead.first_signals,
        readiness_at_alert=lead.readiness_at_alert,
        reason=change.reason if change.status == "not_a_fit" else None,
        assignee=change.assignee or lead.assignee, note=change.note or lead.note,
        until=change.until if change.status == "snoozed" else None,
        blocked_at=now if change.status == "not_a_fit" else None,
        furthest=max(lead.furthest, stage) if stage is not None else lead.furthest,
        first_action_at=acted, updated_at=change.occurred_at, updated_by=change.actor)


def holds_back(lead: Optional[Lead], role: Role, now: datetime) -> Optional[str]:
    """Why an alert for this pair must not go out now (None: it may)."""
    if lead is None:
        return None
    if lead.status in CLOSED:
        return f"lead closed ({lead.status})"
    if lead.status == "snoozed" and lead.until and now.date() < lead.until:
        return f"snoozed until {lead.until.isoformat()}"
    if lead.status == "not_a_fit" and lead.blocked_at is not None:
        if role.changed_at is None or role.changed_at <= lead.blocked_at:
            return f"marked not a fit ({lead.reason})"
    return None


def touches(role: Role, signal: DetectedSignal) -> bool:
    """A signal that bears on the role: a skill it asks for, a move into one of its places or
    levels. Such a signal lifts a not_a_fit hold on the pair."""
    detail = signal.detail
    if signal.type == "new_skill":
        return detail.get("skill") in role.must_set or detail.get("skill") in role.nice_to_have
    if signal.type == "relocation":
        return role.place_keys is not None and not role.place_keys.isdisjoint(places.place_parts(detail.get("to")))
    if signal.type == "promotion" and role.seniority:  # a promotion is a higher level by definition
        return (detail.get("to_level") or ladder.seniority_of_title(detail.get("to_title"))) in role.seniority
    if signal.type == "role_change" and role.seniority:  # a new employer touches only with a new level
        level = ladder.seniority_of_title(detail.get("title"))
        return level in role.seniority and level != ladder.seniority_of_title(detail.get("from_title"))
    return False


def lifted(lead: Lead, role: Role, signals: Sequence[DetectedSignal]) -> Optional[Lead]:
    """The lead with its not_a_fit hold lifted, when one of the signals touches the role."""
    if lead.status != "not_a_fit" or lead.blocked_at is None or not any(touches(role, s) for s in signals):
        return None
    return replace(lead, blocked_at=None)
