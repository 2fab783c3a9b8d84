"""The handlers: one event and the candidate's context in, Effects out. Pure: no database,
no broker, no clock (the time is passed in), so "event in, signals and alert out" is
tested on plain data (tests/unit/test_handlers.py).

Every candidate handler ends the same way (`conclude`): the new view and facts give a new
readiness and context; the event's signals are recorded; and every role the candidate could
now meet, or was relevant for, is settled through the pair state machine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Sequence

from schemas import CandidateSignal, InterviewNote, LeadEvent, ProfileEvent, TimerEvent
from schemas.events import as_utc
from schemas.topics import LOGICAL
from services.app.lead_handler import decide_lead, decide_snooze_end
from services.app.pairs import settle_pair
from services.config import DEFAULT_TENURE_WINDOWS_MONTHS
from services.domain.context import CandidateContext, Facts, Interest, Snapshot
from services.domain.detectors import (
    DetectedSignal,
    current_employer,
    detect_profile_signals,
    unsignalled_tenure_window,
)
from services.domain.effects import Effects, FollowUpRecord, LeadUpdate, NewSkill, NoteRecord, SignalRecord
from services.domain.leads import lifted
from services.domain.matcher import Role, RoleIndex, SkillFact, evaluate, evaluate_candidate
from services.domain.notes import extract_note
from services.domain.places import indexed_places, place_parts
from services.domain.profile import SourcedSnapshot, merge_snapshots
from services.domain.readiness import estimate
from services.domain.reasons import describe_signal
from services.domain.rescore import reread_skills, view_words
from services.domain.transitions import Outgoing, Trigger, stable_id


@dataclass(frozen=True)
class Rules:
    """The settings handlers follow (from services.config.Settings)."""
    tenure_windows: tuple[int, ...] = DEFAULT_TENURE_WINDOWS_MONTHS


# -- profile-events ---------------------------------------------------------------------

def decide_profile(context: CandidateContext, event: ProfileEvent, roles: RoleIndex, now: datetime,
                   rules: Rules = Rules()) -> Effects:
    previous = context.snapshots.get(event.source)
    if previous is not None and previous.occurred_at > event.occurred_at:
        return Effects(context=context, stale=True)  # an older snapshot than the one applied
    snapshot = overlay(previous, event)
    snapshots = MappingProxyType({**context.snapshots, event.source: snapshot})
    view = merged_view(snapshots)
    signals = detect_profile_signals(context.view, view, set(context.skills))
    evidence = f"{event.source} profile {event.event_id} ({event.occurred_at.date().isoformat()})"
    skills = [NewSkill(context.candidate_id, skill, f"profile:{event.source}", evidence[:300], event.event_id,
                       event.occurred_at) for skill in view["skills"] if skill not in context.skills]
    facts = context.facts
    for signal in signals:
        if signal.type in ("role_change", "promotion"):
            facts = replace(facts, last_move_on=event.occurred_at.date().isoformat(), last_move_type=signal.type)
    effects = Effects(snapshot=snapshot, snapshot_created=previous is None, skills=skills)
    return conclude(context, replace(context, snapshots=snapshots), effects, view, facts, signals,
                    Said(event.event_id, event.occurred_at, evidence), roles, now)


def overlay(previous: Optional[Snapshot], event: ProfileEvent) -> Snapshot:
    """A field the snapshot leaves out is unknown, not removed: it overlays what it states,
    and each field keeps the time it was last stated."""
    stated = event.profile.model_dump(mode="json", exclude_none=True)
    profile = {**(previous.profile if previous is not None else {}), **stated}
    stated_at = {**(previous.stated_at if previous is not None else {}),
                 **dict.fromkeys(stated, event.occurred_at.isoformat())}
    return Snapshot(event.source, event.event_id, event.occurred_at, profile, stated_at)


def merged_view(snapshots: Mapping[str, Snapshot]) -> dict[str, Any]:
    return merge_snapshots([
        SourcedSnapshot(s.source, s.event_id, s.occurred_at, dict(s.profile),
                        {name: as_utc(datetime.fromisoformat(at)) for name, at in s.stated_at.items()})
        for s in snapshots.values()])


# -- interview-notes --------------------------------------------------------------------

def decide_note(context: CandidateContext, note: InterviewNote, roles: RoleIndex, now: datetime,
                rules: Rules = Rules()) -> Effects:
    extraction = extract_note(note.text, note.occurred_at)
    day = note.occurred_at.date().isoformat()
    evidence = f"interview note {note.event_id} ({day})"
    signals: list[DetectedSignal] = []
    skills: list[NewSkill] = []
    for mention in extraction.skills:
        if mention.key not in context.skills and all(s.skill != mention.key for s in skills):
            skills.append(NewSkill(context.candidate_id, mention.key, "note", evidence[:300], note.event_id,
                                   note.occurred_at))
            signals.append(DetectedSignal("new_skill", {"skill": mention.key, "said": mention.surface}))
    facts = context.facts
    stated_before = facts.interest.on if facts.interest else ""
    for cue in extraction.readiness:
        # The newest statement of interest wins; an older note arriving late does not undo it.
        if cue.kind in ("interested", "not_looking") and day >= stated_before:
            facts = replace(facts, interest=Interest(cue.kind, cue.surface, day, note.event_id))
            if cue.kind == "interested":
                signals.append(DetectedSignal("interest_expressed", {"said": cue.surface}))
    follow_up = None
    if extraction.follow_up_on:
        cue = next(c for c in extraction.readiness if c.follow_up_on == extraction.follow_up_on)
        due = datetime.combine(extraction.follow_up_on, datetime.min.time(), tzinfo=note.occurred_at.tzinfo)
        follow_up = FollowUpRecord(f"fu-{note.event_id}", note.candidate_id, due, note.event_id, cue.surface[:300])
        facts = replace(facts, next_follow_up_on=extraction.follow_up_on.isoformat(),
                        next_follow_up_said=cue.surface[:200])
    record = NoteRecord(note.event_id, note.candidate_id, note.role_id, note.author, note.kind, note.occurred_at,
                        note.text, extraction.to_dict())
    effects = Effects(skills=skills, note=record, follow_up=follow_up)
    return conclude(context, context, effects, context.view, facts, signals,
                    Said(note.event_id, note.occurred_at, evidence), roles, now)


# -- radar-timers -----------------------------------------------------------------------

def decide_timer(context: CandidateContext, timer: TimerEvent, roles: RoleIndex, now: datetime,
                 rules: Rules = Rules()) -> Effects:
    if timer.kind == "snooze_ended":
        return decide_snooze_end(context, timer, roles, now)
    if timer.kind == "rescore":
        return decide_rescore(context, timer, roles, now)
    facts, signals, evidence = context.facts, [], ""
    if timer.kind == "revisit_due":
        due_on = timer.due_at.date().isoformat()
        facts = replace(facts, revisit_due_on=due_on)
        evidence = f"follow-up from interview note {timer.detail.get('note_event_id', '?')} due {timer.due_at.date()}"
        signals.append(DetectedSignal("revisit_due", {"due_on": due_on, "said": timer.detail.get("said")}))
    else:
        view = context.view or {}
        due = unsignalled_tenure_window(view, facts, timer.due_at.date(), rules.tenure_windows)
        if due is not None:
            months, window = due
            facts = facts.with_tenure_window(current_employer(view), window)
            current = view.get("current") or {}
            evidence = f"tenure at {current.get('company')} since {current.get('start')}"
            signals.append(DetectedSignal("tenure_milestone", {"months": months, "window_months": window,
                                                               "company": current.get("company")}))
    return conclude(context, context, Effects(), context.view, facts, signals,
                    Said(timer.event_id, timer.due_at, evidence), roles, now)


def decide_rescore(context: CandidateContext, timer: TimerEvent, roles: RoleIndex, now: datetime) -> Effects:
    """`radar rescore` asks again, after a taxonomy or rules change: what depends on the rules
    (canonical skills, seniority, places; services.domain.rescore) is derived again from the
    stored snapshots and evidence, and every pair is settled through the same code as any
    event. Nothing about the candidate is new, so no signal; a pair whose outcome is the same
    sends nothing, and a second rescore finds nothing to change."""
    if not context.stored:
        return Effects(context=context, candidate_changed=False)  # erased, or never seen: nothing to read
    view = merged_view(context.snapshots) if context.snapshots else context.view
    reread = reread_skills(context.candidate_id, context.skills, context.view, view, context.snapshots,
                           timer.event_id)
    run = timer.detail.get("run") or timer.event_id
    change = [f"re-evaluated after a rules update (rescore {run})", *reread.changes,
              *view_words(context.view, view)]
    effects = Effects(skills=reread.added, skills_dropped=reread.dropped)
    effects = conclude(context, replace(context, skills=MappingProxyType(dict(reread.skills))), effects, view,
                       context.facts, (), Said(timer.event_id, timer.due_at, ""), roles, now, change)
    after = effects.context
    # The places index follows the place rules of this release, whatever the location string did.
    effects.places = tuple(indexed_places((view or {}).get("location")))
    effects.candidate_changed = (after.view != context.view or after.readiness != context.readiness
                                 or after.readiness_reasons != context.readiness_reasons
                                 or after.do_not_contact != context.do_not_contact)
    return effects


# -- what every candidate handler ends with ---------------------------------------------

@dataclass(frozen=True)
class Said:
    """The event as evidence: its id, its time, and the words that name it."""
    event_id: str
    occurred_at: datetime
    evidence: str


def conclude(before: CandidateContext, context: CandidateContext, effects: Effects, view: Optional[Mapping],
             facts: Facts, signals: Sequence[DetectedSignal], said: Said, roles: RoleIndex,
             now: datetime, change: Sequence[str] = ()) -> Effects:
    """The new context (readiness from the new view and facts), the signal records, and every
    pair the candidate may enter or leave (`change`: words on what changed beyond the signals)."""
    readiness = estimate(view or {}, facts, now.date())
    skills = {**context.skills, **{s.skill: _skill_fact(s) for s in effects.skills}}
    after = replace(context, stored=True, view=view, facts=facts, skills=MappingProxyType(skills),
                    do_not_contact=bool((view or {}).get("do_not_contact")), readiness=readiness.score,
                    readiness_reasons=tuple(readiness.reasons))
    effects.created = not before.stored
    if place_parts((before.view or {}).get("location")) != place_parts((view or {}).get("location")):
        effects.places = tuple(indexed_places((view or {}).get("location")))
    effects.signals = [signal_record(before.candidate_id, s, said, now) for s in signals]
    effects.messages = [Outgoing(LOGICAL.candidate_signals, r.candidate_id, r.signal_id, signal_message(r))
                        for r in effects.signals]
    trigger = Trigger(said.event_id, [s.type for s in signals], [*change, *(describe_signal(s) for s in signals)],
                      until_now=_until_now(before, now))
    pairs, leads = dict(after.pairs), dict(after.leads)
    for lead in list(leads.values()):  # a signal that touches a role lifts a not_a_fit hold on it
        role = roles.get(lead.role_id)
        freed = lifted(lead, role, signals) if role is not None else None
        if freed is not None:
            leads[lead.role_id] = freed
            effects.leads.append(LeadUpdate(freed, new=False))
    for evaluation in evaluate_candidate(roles, after.matcher_facts, after.relevant_roles(), now):
        role_id = evaluation.role.role_id
        state, lead = settle_pair(evaluation.role, after.candidate_id, pairs.get(role_id), leads.get(role_id),
                                  evaluation, after.readiness, trigger, now, effects, after.generation)
        if state is not None:
            pairs[role_id] = state
        if lead is not None:
            leads[role_id] = lead
    effects.context = replace(after, pairs=MappingProxyType(pairs), leads=MappingProxyType(leads))
    return effects


def _until_now(before: CandidateContext, now: datetime) -> Callable[[Role], list[str]]:
    """Why the candidate did not meet a role before this event (built for alerts only)."""
    def words(role: Role) -> list[str]:
        if not before.stored:
            return ["first event about this candidate"]
        return [f"until this event: {failure}" for failure in evaluate(role, before.matcher_facts, now).failed]
    return words


def _skill_fact(skill: NewSkill) -> SkillFact:
    return SkillFact(skill.origin, skill.evidence, skill.first_seen_at)


def signal_record(candidate_id: str, signal: DetectedSignal, said: Said, now: datetime) -> SignalRecord:
    signal_id = stable_id("sg", said.event_id, signal.type, json.dumps(signal.detail, sort_keys=True))
    return SignalRecord(signal_id, candidate_id, signal.type, signal.detail, said.evidence, said.event_id,
                        said.occurred_at, now)


def signal_message(record: SignalRecord) -> dict[str, Any]:
    return CandidateSignal(signal_id=record.signal_id, candidate_id=record.candidate_id, type=record.type,
                           detail=record.detail, evidence=record.evidence, source_event_id=record.source_event_id,
                           occurred_at=record.occurred_at, detected_at=record.detected_at).model_dump(mode="json")


# One table: which handler decides which event.
CANDIDATE_HANDLERS: dict[type, Callable[..., Effects]] = {
    ProfileEvent: decide_profile,
    InterviewNote: decide_note,
    TimerEvent: decide_timer,
    LeadEvent: decide_lead,
}
