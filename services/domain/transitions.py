"""The alert state machine of a (role, candidate) pair, and the stable ids of what it sends.

A pair alerts only on entering relevance and withdraws on leaving it; while it stays,
nothing is sent, and nothing is written unless its score moved. Pure: the caller passes
the pair's previous state, the verdict and the time, and gets back the new state and the
message to publish, if any.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Optional, Sequence

from schemas import MatchAlert, MatchWithdrawn
from services.domain.context import PairState
from services.domain.matcher import Evaluation, Role

NEVER_RELEVANT = PairState(relevant=False, fit=0.0, readiness=0.0, transitions=0, last_alert_id=None)


@dataclass(frozen=True)
class Outgoing:
    """A message for the outbox: published on `topic` (a logical name) by the relay."""
    topic: str
    key: str
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class PairUpdate:
    """What to store of a pair: its new state; reasons and changed_at only when they change."""
    role_id: str
    candidate_id: str
    state: PairState
    new: bool                                   # no row yet
    reasons: Optional[tuple] = None             # the pair is relevant and entered or its score moved
    changed_at: Optional[datetime] = None       # it entered or left


def transition(previous: Optional[PairState], now_relevant: bool) -> Optional[str]:
    """"enter" on not-relevant -> relevant, "leave" on relevant -> not-relevant, else None."""
    was_relevant = previous.relevant if previous else False
    if now_relevant and not was_relevant:
        return "enter"
    if was_relevant and not now_relevant:
        return "leave"
    return None


def stable_id(prefix: str, *parts: object) -> str:
    """The same parts always give the same id (for a pair: role, candidate, transition number)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"


def pair_message_id(prefix: str, role_id: str, candidate_id: str, transitions: int, generation: int = 0) -> str:
    """The id of a pair's alert ("al") or withdrawal ("wd"): the same for the same transition
    (redelivered, replayed, recovered), and never one an earlier life of the candidate had:
    the generation (times erased before re-admission) is part of it from 1 on; generation 0
    keeps the ids as they always were."""
    if generation == 0:
        return stable_id(prefix, role_id, candidate_id, transitions)
    return stable_id(prefix, role_id, candidate_id, transitions, f"generation {generation}")


@dataclass(frozen=True)
class Trigger:
    """What made the pair be looked at: the event, its signals and what it changed, in words."""
    event_id: str
    signal_types: Sequence[str] = ()
    change: Sequence[str] = ()
    # For a candidate event: why the candidate did not meet the role before it (alerts only).
    until_now: Optional[Callable[[Role], list[str]]] = None


@dataclass(frozen=True)
class Settled:
    update: Optional[PairUpdate] = None   # what to store of the pair (None: nothing changed)
    message: Optional[Outgoing] = None    # the alert or withdrawal to publish
    held_back: Optional[str] = None       # why its alert did not go out


def settle(role: Role, candidate_id: str, previous: Optional[PairState], evaluation: Evaluation, readiness: float,
           trigger: Trigger, now: datetime, topic: str, hold_back: Optional[str] = None,
           generation: int = 0) -> Settled:
    """The pair's new state and the message it sends: an alert on entering, a withdrawal on
    leaving; nothing to write when it stays as it was (the most common case). With
    `hold_back` (a lead's feedback), a pair enters silently: no alert, and no withdrawal when
    it leaves again. `generation` is the candidate's, for a pair with no state yet (a stored
    pair carries its own)."""
    if previous is None and not evaluation.relevant:
        return Settled()  # never relevant: nothing to remember
    step = transition(previous, evaluation.relevant)
    if step is None and previous.fit == evaluation.fit and previous.readiness == readiness:
        return Settled()
    base = replace(previous or replace(NEVER_RELEVANT, generation=generation), fit=evaluation.fit,
                   readiness=readiness)
    # Words are built only when the pair enters or its score moved.
    reasons = tuple(evaluation.reasons) if evaluation.relevant else None
    if step is None:
        return Settled(PairUpdate(role.role_id, candidate_id, base, new=False, reasons=reasons))
    transitions = base.transitions + 1
    new = previous is None
    if step == "enter" and hold_back:
        state = replace(base, relevant=True, transitions=transitions, silent=True)
        return Settled(PairUpdate(role.role_id, candidate_id, state, new, reasons, now), None, hold_back)
    if step == "enter":
        return enter(role, candidate_id, base, evaluation, readiness, trigger, now, topic, new, reasons)
    state = replace(base, relevant=False, transitions=transitions, silent=False)
    update = PairUpdate(role.role_id, candidate_id, state, new=new, reasons=reasons, changed_at=now)
    if base.silent:
        return Settled(update)  # its alert never went out: nothing to withdraw
    # What the event changed, then which constraint now fails.
    texts = list(dict.fromkeys([*trigger.change, *evaluation.failed]))
    withdrawal_id = pair_message_id("wd", role.role_id, candidate_id, transitions, base.generation)
    message = MatchWithdrawn(alert_id=withdrawal_id, withdraws_alert_id=base.last_alert_id, role_id=role.role_id,
                             candidate_id=candidate_id, reasons=[{"kind": "change", "text": t} for t in texts],
                             triggered_by=trigger.event_id, created_at=now)
    return Settled(update, Outgoing(topic, role.role_id, message.alert_id, message.model_dump(mode="json")))


def enter(role: Role, candidate_id: str, base: PairState, evaluation: Evaluation, readiness: float,
          trigger: Trigger, now: datetime, topic: str, new: bool = False, reasons: Optional[tuple] = None) -> Settled:
    """An alert: the pair enters relevance (or, after a snooze, is brought up again)."""
    transitions = base.transitions + 1
    alert_id = pair_message_id("al", role.role_id, candidate_id, transitions, base.generation)
    state = replace(base, relevant=True, transitions=transitions, last_alert_id=alert_id, silent=False)
    change = list(trigger.change) + (trigger.until_now(role) if trigger.until_now else [])
    message = MatchAlert(alert_id=alert_id, role_id=role.role_id, candidate_id=candidate_id,
                         fit=evaluation.fit, readiness=readiness,
                         reasons=[{"kind": "change", "text": text} for text in change] + list(evaluation.reasons),
                         signals=sorted(set(trigger.signal_types)), triggered_by=trigger.event_id, created_at=now)
    update = PairUpdate(role.role_id, candidate_id, state, new, reasons or tuple(evaluation.reasons), now)
    return Settled(update, Outgoing(topic, role.role_id, alert_id, message.model_dump(mode="json")))
