"""The handlers: one batch of records in, one transaction out.

For each batch: decode, skip event ids seen before, load every candidate's context in
a few queries, apply the events in order (snapshots, notes, timers, role specs), detect
signals, run the matcher, and write the new state, the signals, the idempotency
records and the outbox rows (alerts, signals, dead letters) in ONE transaction. The
relay publishes the outbox afterwards; a crash anywhere loses and doubles nothing.
"""
from __future__ import annotations

import gc
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from schemas import (
    CandidateSignal, InterviewNote, MatchAlert, MatchWithdrawn, ProfileEvent, RoleSpec, TimerEvent, TOPICS,
)
from services import readiness as readiness_model
from services.context import CandidateState, as_utc, chunks, for_update, load_facts, load_states, match_states
from services.decoding import RawRecord, Rejected, RoleTombstone, dead_letter, decode, decode_safely
from services.errors import failure_reason, is_transient, log_fields
from services.detectors import (
    DetectedSignal, detect_profile_signals, mark_tenure_window_signalled, unsignalled_tenure_window,
)
from services.logs import get_logger
from services.matcher import (
    CandidateFacts, Evaluation, PreviousState, Role, RoleIndex, closed_role, evaluate, evaluate_candidate, stable_id, transition,
)
from services.notes import extract_note
from services.places import indexed_places, place_parts
from services.store.db import utcnow
from services.store.models import (
    Candidate, CandidatePlace, CandidateSkill, FollowUp, MatchState, Note, OutboxMessage, ProcessedEvent,
    ProfileSnapshot, RoleSpecRow, Signal,
)
from services.store import queries
from services.taxonomy import skill_label

log = get_logger("radar.pipeline")
FREEZE_EVERY_ROLES = 500  # role-index growth after which long-lived objects leave the GC's view


@dataclass
class BatchResult:
    processed: int = 0
    duplicates: int = 0
    stale: int = 0
    dead_letters: int = 0
    signals: int = 0
    alerts: int = 0
    withdrawals: int = 0
    counts_by_type: dict[str, int] = field(default_factory=dict)

    def add(self, other: "BatchResult") -> None:
        for name in ("processed", "duplicates", "stale", "dead_letters", "signals", "alerts", "withdrawals"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.counts_by_type.items():
            self.counts_by_type[key] = self.counts_by_type.get(key, 0) + value


class Pipeline:
    """Owns the role index of this worker and runs batches through the store."""

    def __init__(self, sessions: sessionmaker[Session], role_index: Optional[RoleIndex] = None,
                 clock: Callable[[], datetime] = utcnow, tenure_windows: tuple[int, ...] = (24, 36, 48)):
        self.sessions = sessions
        self.roles = role_index or RoleIndex()
        self.clock = clock
        self.tenure_windows = tenure_windows
        self.role_revision_seen = 0
        self._roles_at_freeze: Optional[int] = None  # index size at the last gc.freeze

    def process_safely(self, records: list[RawRecord]) -> BatchResult:
        """Like `process`, but a record that fails for a reason retrying cannot fix goes to
        dead-letters alone, and the rest of the batch is stored.

        Transient database errors (connection lost, lock timeout, deadlock) are raised: the
        caller retries the batch and the records are not acknowledged meanwhile. Any other
        failure re-runs the batch one record at a time (a clash with a concurrent writer
        passes then), and a record that still fails is dead-lettered with the reason.
        """
        try:
            return self.process(records)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("batch_failed_isolating_records", size=len(records), **log_fields(exc))
        result = BatchResult()
        for record in records:
            try:
                result.add(self.process([record]))
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.error("record_failed", topic=record.topic, partition=record.partition, offset=record.offset,
                          **log_fields(exc))
                result.add(self.dead_letter_alone(record, failure_reason(exc)))
        return result

    def dead_letter_alone(self, record: RawRecord, reason: str) -> BatchResult:
        """Store a dead letter for one record in a transaction of its own. If even that is
        refused (a value no column takes), store one without the original value; if that
        fails too, raise: the record stays unacknowledged and the batch is retried.

        A record that was invalid anyway (it failed while its own dead letter was written)
        keeps the reason it is invalid."""
        decoded = decode_safely(record)
        if isinstance(decoded, Rejected):
            reason = decoded.error
        for keep_value in (True, False):
            try:
                with self.sessions.begin() as session:
                    batch = _Batch(self, session)
                    batch.reject(record, reason if keep_value else
                                 f"{reason}; the original value could not be stored with it", keep_value)
                    return batch.result
            except Exception as exc:
                if is_transient(exc) or not keep_value:
                    raise
                log.error("dead_letter_refused", topic=record.topic, offset=record.offset, **log_fields(exc))
        raise AssertionError("unreachable")

    # -- entry points ---------------------------------------------------------

    def process(self, records: list[RawRecord]) -> BatchResult:
        """One transaction for the whole batch. Raises on a database failure (the caller retries)."""
        with self.sessions.begin() as session:
            self.refresh_roles(session)
            result = _Batch(self, session).run(records)
        self.freeze_long_lived()
        return result

    def freeze_long_lived(self) -> None:
        """After the first batch, and whenever the role index has changed size by many roles
        since, move what is alive now out of the cyclic garbage collector's view (gc.freeze).
        The index and the libraries' own objects live as long as the worker; left in view,
        every collection re-scans them, which with 10,000 roles measured about a sixth of a
        batch's time. Garbage cycles are collected first, so nothing leaks."""
        if self._roles_at_freeze is None or abs(len(self.roles) - self._roles_at_freeze) >= FREEZE_EVERY_ROLES:
            gc.collect()
            gc.freeze()
            self._roles_at_freeze = len(self.roles)

    def refresh_roles(self, session: Session) -> None:
        """Pull role specs changed since this worker last looked (one indexed query)."""
        for row in session.scalars(select(RoleSpecRow).where(RoleSpecRow.revision > self.role_revision_seen)
                                   .order_by(RoleSpecRow.revision)):
            if row.deleted:
                self.roles.remove(row.role_id)
            else:
                self.roles.upsert(Role.from_spec(RoleSpec.model_validate(row.spec)))
            self.role_revision_seen = max(self.role_revision_seen, row.revision)


class _Batch:
    """The work of one batch inside one session; thrown away afterwards."""

    def __init__(self, pipeline: Pipeline, session: Session):
        self.p = pipeline
        self.session = session
        self.now = pipeline.clock()
        self.result = BatchResult()
        self.states: dict[str, CandidateState] = {}
        # The candidate as the current event found it, built only if an alert needs it.
        self.facts_before: Optional[Callable[[], CandidateFacts]] = None

    def run(self, records: list[RawRecord]) -> BatchResult:
        decoded = [(record, decode(record)) for record in records]
        keys = [None if isinstance(item, Rejected) else _idempotency_key(record, item) for record, item in decoded]
        seen = self._already_processed([key for key in keys if key is not None])
        candidate_ids = [item.candidate_id for _, item in decoded if hasattr(item, "candidate_id")]
        self.states = load_states(self.session, candidate_ids)
        for (record, item), key in zip(decoded, keys):
            if isinstance(item, Rejected):
                self.reject(record, item.error)
                continue
            if key is not None and key in seen:
                self.result.duplicates += 1
                log.info("duplicate_skipped", stream=key[0], event_id=key[1])
                continue
            if key is not None:
                seen.add(key)
                self.session.add(ProcessedEvent(stream=key[0], event_id=key[1], processed_at=self.now))
            self.apply(record, item)
            self.result.processed += 1
        return self.result

    def _already_processed(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The keys among these that an earlier batch recorded (one query per stream)."""
        found: set[tuple[str, str]] = set()
        by_stream: dict[str, list[str]] = {}
        for stream, event_id in set(keys):
            by_stream.setdefault(stream, []).append(event_id)
        for stream, ids in by_stream.items():
            found |= {(stream, e) for e in queries.processed_event_ids(self.session, stream, ids)}
        return found

    def apply(self, record: RawRecord, item) -> None:
        if hasattr(item, "candidate_id"):
            # What the candidate looked like before this event: an alert says what changed.
            known = self.states.get(item.candidate_id)
            self.facts_before = known.facts_as_of_now() if known is not None and known.row is not None else None
        if isinstance(item, ProfileEvent):
            self.apply_profile(item)
        elif isinstance(item, InterviewNote):
            self.apply_note(item)
        elif isinstance(item, TimerEvent):
            self.apply_timer(item)
        elif isinstance(item, RoleSpec):
            self.apply_role(item.role_id, item, item.event_id or f"{record.position}")
        elif isinstance(item, RoleTombstone):
            self.apply_role(item.role_id, None, f"tombstone {record.position}")

    def reject(self, record: RawRecord, error: str, keep_value: bool = True) -> None:
        letter = dead_letter(record, error, self.now, keep_value)
        from_kafka = record.offset is not None
        message_id = stable_id("dl", record.position) if from_kafka else stable_id("dl", record.topic, self.now, id(record))
        self.outbox(TOPICS.dead_letters, letter.key or "", message_id, letter.model_dump(mode="json"), dedupe=from_kafka)
        self.result.dead_letters += 1
        log.warning("dead_lettered", topic=record.topic, partition=record.partition, offset=record.offset, error=error)

    # -- candidate events -----------------------------------------------------

    def state(self, candidate_id: str) -> CandidateState:
        if candidate_id not in self.states:
            self.states[candidate_id] = CandidateState(candidate_id)
        state = self.states[candidate_id]
        if state.row is None:
            state.row = Candidate(candidate_id=candidate_id, view={"profile": None, "facts": {}},
                                  do_not_contact=False, readiness=0.0, readiness_reasons=[], updated_at=self.now)
            self.session.add(state.row)
        return state

    def apply_profile(self, event: ProfileEvent) -> None:
        state = self.state(event.candidate_id)
        previous = state.snapshots.get(event.source)
        if previous is not None and as_utc(previous.occurred_at) > event.occurred_at:
            self.result.stale += 1
            log.info("stale_snapshot_ignored", event_id=event.event_id, candidate_id=event.candidate_id)
            return
        # A field the snapshot leaves out is unknown, not removed: overlay what it states.
        stated = event.profile.model_dump(mode="json", exclude_none=True)
        profile = {**(previous.profile if previous is not None else {}), **stated}
        stated_at = {**_field_dates(previous), **dict.fromkeys(stated, event.occurred_at.isoformat())}
        if previous is None:
            previous = ProfileSnapshot(candidate_id=event.candidate_id, source=event.source)
            self.session.add(previous)
            state.snapshots[event.source] = previous
        previous.event_id, previous.occurred_at, previous.profile = event.event_id, event.occurred_at, profile
        previous.stated_at = stated_at
        old_view, new_view = state.profile_view, state.merged_view()
        signals = detect_profile_signals(old_view, new_view, set(state.skills))
        evidence = f"{event.source} profile {event.event_id} ({event.occurred_at.date().isoformat()})"
        for skill in new_view["skills"]:
            self.add_skill(state, skill, f"profile:{event.source}", evidence, event.event_id, event.occurred_at)
        facts = state.facts
        for signal in signals:
            if signal.type in ("role_change", "promotion"):
                facts["last_move_on"], facts["last_move_type"] = event.occurred_at.date().isoformat(), signal.type
        self.save_view(state, new_view, facts)
        self.emit_signals(state, signals, evidence, event.event_id, event.occurred_at)
        self.match_candidate(state, event.event_id, signals)

    def apply_note(self, note: InterviewNote) -> None:
        state = self.state(note.candidate_id)
        extraction = extract_note(note.text, note.occurred_at)
        self.session.add(Note(event_id=note.event_id, candidate_id=note.candidate_id, role_id=note.role_id,
                              author=note.author, kind=note.kind, occurred_at=note.occurred_at, text=note.text,
                              extraction=extraction.to_dict()))
        day = note.occurred_at.date().isoformat()
        evidence = f"interview note {note.event_id} ({day})"
        signals: list[DetectedSignal] = []
        for mention in extraction.skills:
            if self.add_skill(state, mention.key, "note", evidence, note.event_id, note.occurred_at):
                signals.append(DetectedSignal("new_skill", {"skill": mention.key, "said": mention.surface}))
        facts = state.facts
        stated_before = (facts.get("interest") or {}).get("on", "")
        for cue in extraction.readiness:
            # The newest statement of interest wins; an older note arriving late does not undo it.
            if cue.kind in ("interested", "not_looking") and day >= stated_before:
                facts["interest"] = {"kind": cue.kind, "surface": cue.surface, "on": day, "note": note.event_id}
                if cue.kind == "interested":
                    signals.append(DetectedSignal("interest_expressed", {"said": cue.surface}))
        if extraction.follow_up_on:
            self.add_follow_up(note, extraction, facts)
        self.save_view(state, state.profile_view, facts)
        self.emit_signals(state, signals, evidence, note.event_id, note.occurred_at)
        self.match_candidate(state, note.event_id, signals)

    def add_follow_up(self, note: InterviewNote, extraction, facts: dict[str, Any]) -> None:
        cue = next(c for c in extraction.readiness if c.follow_up_on == extraction.follow_up_on)
        due = datetime.combine(extraction.follow_up_on, datetime.min.time(), tzinfo=note.occurred_at.tzinfo)
        self.session.merge(FollowUp(follow_up_id=f"fu-{note.event_id}", candidate_id=note.candidate_id,
                                    due_at=due, note_event_id=note.event_id, surface=cue.surface[:300]))
        facts["next_follow_up_on"] = extraction.follow_up_on.isoformat()
        facts["next_follow_up_said"] = cue.surface[:200]

    def apply_timer(self, timer: TimerEvent) -> None:
        state = self.state(timer.candidate_id)
        facts = state.facts
        signals: list[DetectedSignal] = []
        if timer.kind == "revisit_due":
            facts["revisit_due_on"] = timer.due_at.date().isoformat()
            evidence = f"follow-up from interview note {timer.detail.get('note_event_id', '?')} due {timer.due_at.date()}"
            signals.append(DetectedSignal("revisit_due", {"due_on": timer.due_at.date().isoformat(),
                                                          "said": timer.detail.get("said")}))
        else:
            evidence, signal = self.tenure_signal(state, facts, timer)
            signals += [signal] if signal else []
        self.save_view(state, state.profile_view, facts)
        self.emit_signals(state, signals, evidence, timer.event_id, timer.due_at)
        self.match_candidate(state, timer.event_id, signals)

    def tenure_signal(self, state: CandidateState, facts: dict[str, Any], timer: TimerEvent):
        view = state.profile_view or {}
        due = unsignalled_tenure_window(view, facts, timer.due_at.date(), self.p.tenure_windows)
        if due is None:
            return "", None
        months, window = due
        mark_tenure_window_signalled(view, facts, window)
        current = view.get("current") or {}
        return (f"tenure at {current.get('company')} since {current.get('start')}",
                DetectedSignal("tenure_milestone", {"months": months, "window_months": window,
                                                    "company": current.get("company")}))

    def add_skill(self, state: CandidateState, skill: str, origin: str, evidence: str, event_id: str,
                  seen_at: datetime) -> bool:
        """Record evidence of a skill; True when the candidate had none before."""
        if skill in state.skills:
            return False
        row = CandidateSkill(candidate_id=state.candidate_id, skill=skill, origin=origin, evidence=evidence[:300],
                             source_event_id=event_id, first_seen_at=seen_at)
        self.session.add(row)
        state.skills[skill] = row
        return True

    def save_view(self, state: CandidateState, view: Optional[dict[str, Any]], facts: dict[str, Any]) -> None:
        row = state.row
        self.save_places(state, (state.profile_view or {}).get("location"), (view or {}).get("location"))
        readiness = readiness_model.estimate(view or {}, facts, self.now.date())
        row.view = {"profile": view, "facts": facts}
        current = (view or {}).get("current") or {}
        row.current_company, row.seniority = current.get("company"), (view or {}).get("seniority")
        row.city, row.years_experience = (view or {}).get("city"), (view or {}).get("years_experience")
        row.do_not_contact = bool((view or {}).get("do_not_contact"))
        row.readiness, row.readiness_reasons, row.updated_at = readiness.score, readiness.reasons, self.now

    def save_places(self, state: CandidateState, before: Optional[str], after: Optional[str]) -> None:
        """Keep candidate_places in step with the location (only when it changes)."""
        if place_parts(before) == place_parts(after):
            return
        table = CandidatePlace.__table__
        self.session.execute(delete(table).where(table.c.candidate_id == state.candidate_id))
        parts = indexed_places(after)
        if parts:
            self.session.execute(insert(table), [{"candidate_id": state.candidate_id, "place": p} for p in parts])

    def emit_signals(self, state: CandidateState, signals: list[DetectedSignal], evidence: str, event_id: str,
                     occurred_at: datetime) -> None:
        for signal in signals:
            signal_id = stable_id("sg", event_id, signal.type, json.dumps(signal.detail, sort_keys=True))
            message = CandidateSignal(signal_id=signal_id, candidate_id=state.candidate_id, type=signal.type,
                                      detail=signal.detail, evidence=signal.evidence or evidence,
                                      source_event_id=event_id, occurred_at=occurred_at, detected_at=self.now)
            self.session.add(Signal(signal_id=signal_id, candidate_id=state.candidate_id, type=signal.type,
                                    detail=signal.detail, evidence=message.evidence[:300], source_event_id=event_id,
                                    occurred_at=occurred_at, detected_at=self.now))
            self.outbox(TOPICS.candidate_signals, state.candidate_id, signal_id, message.model_dump(mode="json"))
            self.result.signals += 1
            self.result.counts_by_type[signal.type] = self.result.counts_by_type.get(signal.type, 0) + 1
            log.info("signal_detected", event_id=event_id, candidate_id=state.candidate_id, signal=signal.type)

    # -- matching -------------------------------------------------------------

    def match_candidate(self, state: CandidateState, event_id: str, signals: list[DetectedSignal]) -> None:
        """Roles this candidate could meet (index) plus roles it met before (state): nothing else."""
        facts = state.matcher_facts()
        relevant_now = [role_id for role_id, match in state.matches.items() if match.relevant]
        change = [_describe_signal(s) for s in signals]
        for evaluation in evaluate_candidate(self.p.roles, facts, relevant_now, self.now):
            self.settle(evaluation.role, state.candidate_id, state.matches, facts.readiness, evaluation,
                        event_id, [s.type for s in signals], change, candidate_event=True)

    def settle(self, role: Role, candidate_id: str, matches: dict[str, MatchState], readiness: float,
               evaluation: Evaluation, event_id: str, signal_types: list[str], change: list[str],
               candidate_event: bool = False) -> None:
        """Apply the state machine to one pair: alert on entering, withdrawal on leaving.

        `matches` is the candidate's match-state rows by role id (at least this role's, if any)."""
        row = matches.get(role.role_id)
        if row is None and not evaluation.relevant:
            return  # never relevant: nothing to remember
        step = transition(PreviousState(row.relevant, row.transitions, row.last_alert_id) if row else None,
                          evaluation.relevant)
        if step is None and row.fit == evaluation.fit and row.readiness == readiness:
            return  # the most common case: the pair stays as it was, so nothing is written
        if row is None:
            row = MatchState(role_id=role.role_id, candidate_id=candidate_id, relevant=False, fit=0.0,
                             readiness=0.0, reasons=[], transitions=0, changed_at=self.now)
            self.session.add(row)
            matches[role.role_id] = row
        _set_if_changed(row, fit=evaluation.fit, readiness=readiness)
        if evaluation.relevant:
            # Words are built (and written unread: the column is deferred) only when the pair
            # enters or its score moved; a pair that stays relevant as it was keeps its reasons.
            row.reasons = list(evaluation.reasons)
        if step == "enter":
            if candidate_event:
                change = change + self.until_now(role)
            self.alert(role, candidate_id, row, evaluation, event_id, signal_types, change)
        elif step == "leave":
            self.withdraw(role, candidate_id, row, evaluation, event_id, change)

    def until_now(self, role: Role) -> list[str]:
        """Why the candidate did not meet the role before this event (built for alerts only)."""
        if self.facts_before is None:
            return ["first event about this candidate"]
        return [f"until this event: {failure}" for failure in evaluate(role, self.facts_before(), self.now).failed]

    def alert(self, role, candidate_id, row, evaluation, event_id, signal_types, change) -> None:
        row.transitions += 1
        row.relevant, row.changed_at = True, self.now
        row.last_alert_id = stable_id("al", role.role_id, candidate_id, row.transitions)
        reasons = [{"kind": "change", "text": text} for text in change] + list(evaluation.reasons)
        alert = MatchAlert(alert_id=row.last_alert_id, role_id=role.role_id, candidate_id=candidate_id,
                           fit=evaluation.fit, readiness=row.readiness, reasons=reasons,
                           signals=sorted(set(signal_types)), triggered_by=event_id, created_at=self.now)
        self.outbox(TOPICS.match_alerts, role.role_id, alert.alert_id, alert.model_dump(mode="json"))
        self.result.alerts += 1
        log.info("match_alert", event_id=event_id, role_id=role.role_id, candidate_id=candidate_id,
                 alert_id=alert.alert_id, fit=evaluation.fit)

    def withdraw(self, role, candidate_id, row, evaluation, event_id, change) -> None:
        """Reasons: what the event changed (its signals, or the role edit), then what now fails."""
        row.transitions += 1
        row.relevant, row.changed_at = False, self.now
        texts = list(dict.fromkeys([*change, *evaluation.failed]))
        message = MatchWithdrawn(alert_id=stable_id("wd", role.role_id, candidate_id, row.transitions),
                                 withdraws_alert_id=row.last_alert_id, role_id=role.role_id,
                                 candidate_id=candidate_id,
                                 reasons=[{"kind": "change", "text": text} for text in texts],
                                 triggered_by=event_id, created_at=self.now)
        self.outbox(TOPICS.match_alerts, role.role_id, message.alert_id, message.model_dump(mode="json"))
        self.result.withdrawals += 1
        log.info("match_withdrawn", event_id=event_id, role_id=role.role_id, candidate_id=candidate_id)

    # -- role specs -----------------------------------------------------------

    def apply_role(self, role_id: str, spec: Optional[RoleSpec], event_id: str) -> None:
        """Store the spec, update the index, and re-evaluate exactly the candidates it can affect."""
        row = self.session.get(RoleSpecRow, role_id)
        before = Role.from_spec(RoleSpec.model_validate(row.spec)) if row and not row.deleted else None
        revision = (self.session.scalar(select(func.max(RoleSpecRow.revision))) or 0) + 1
        if row is None:
            row = RoleSpecRow(role_id=role_id, spec={})
            self.session.add(row)
        if spec is None:
            row.deleted, row.status = True, "deleted"
            self.p.roles.remove(role_id)
            role = closed_role(role_id, "deleted")
        else:
            row.spec, row.status, row.deleted = spec.model_dump(mode="json"), spec.status, False
            role = Role.from_spec(spec)
            self.p.roles.upsert(role)
        row.revision, row.updated_at = revision, self.now
        self.session.flush()
        self.p.role_revision_seen = max(self.p.role_revision_seen, revision)
        change = [_describe_role_change(before, role)]
        candidate_ids = queries.candidates_for_role(self.session, role) if role.status == "open" else []
        candidate_ids = sorted(set(candidate_ids) | set(queries.relevant_candidates(self.session, role_id)))
        for part in chunks(candidate_ids):
            self.settle_role_chunk(role, part, event_id, change)
        log.info("role_spec_applied", role_id=role_id, event_id=event_id, status=role.status,
                 candidates_evaluated=len(candidate_ids))

    def settle_role_chunk(self, role: Role, candidate_ids: list[str], event_id: str, change: list[str]) -> None:
        """Score one chunk of candidates from plain rows (no ORM objects but this role's
        match-state rows), write what changed, and let go of those rows: a role that
        matches many candidates streams through memory instead of filling it."""
        facts = load_facts(self.session, candidate_ids)
        matches = {m.candidate_id: m for m in self.session.scalars(
            for_update(self.session, match_states().where(MatchState.role_id == role.role_id,
                                                              MatchState.candidate_id.in_(candidate_ids))))}
        touched = []
        for cid in candidate_ids:
            if cid in self.states:  # changed earlier in this batch: use the live state
                state, live = self.states[cid], self.states[cid].matcher_facts()
                self.settle(role, cid, state.matches, live.readiness, evaluate(role, live, self.now),
                            event_id, [], change)
            elif cid in facts:
                pair = {role.role_id: matches[cid]} if cid in matches else {}
                self.settle(role, cid, pair, facts[cid].readiness, evaluate(role, facts[cid], self.now),
                            event_id, [], change)
                touched.extend(pair.values())
        self.session.flush()
        for row in touched:
            self.session.expunge(row)

    def outbox(self, topic: str, key: str, message_id: str, payload: dict[str, Any], dedupe: bool = False) -> None:
        # Alerts and signals cannot repeat (idempotency records and the state machine see
        # to it); a dead letter can, when its record is redelivered, so only it is checked.
        if dedupe and self.session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id)):
            return
        self.session.add(OutboxMessage(topic=topic, key=key, message_id=message_id, payload=payload,
                                       created_at=self.now))


def _set_if_changed(row, **values) -> None:
    """Assign only what differs, so a pair that merely stays relevant costs no UPDATE."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _field_dates(snapshot: Optional[ProfileSnapshot]) -> dict[str, str]:
    """When the source last stated each field (a row stored before field dates were kept
    dates every field from its snapshot)."""
    if snapshot is None:
        return {}
    if snapshot.stated_at is not None:
        return dict(snapshot.stated_at)
    return dict.fromkeys(snapshot.profile or {}, as_utc(snapshot.occurred_at).isoformat())


def _idempotency_key(record: RawRecord, item) -> Optional[tuple[str, str]]:
    """(stream, id) recorded in processed_events, or None for what needs no record.

    Role specs count too: replaying an old spec after a newer one would bring the old one
    back (and alert again). One without an event_id (a tombstone always) is known by its
    position in the single-partition role-specs topic, which a redelivery keeps."""
    event_id = getattr(item, "event_id", None)
    if isinstance(item, (RoleSpec, RoleTombstone)):
        if event_id:
            return ("RoleSpec", event_id)
        return ("RoleSpecPosition", record.position) if record.offset is not None else None
    return (type(item).__name__, event_id) if event_id else None


_SIGNAL_TEXT = {
    "new_skill": lambda d: f"new skill: {skill_label(d.get('skill', ''))}",
    "role_change": lambda d: f"moved from {d.get('from_company')} to {d.get('to_company')}",
    "promotion": lambda d: f"promoted to {d.get('to_title')} at {d.get('company')}",
    "leadership_growth": lambda d: f"now leads {d.get('to_reports')} direct reports",
    "domain_shift": lambda d: f"moved from {d.get('from_industry')} to {d.get('to_industry')}",
    "relocation": lambda d: f"relocated to {d.get('to')}",
    "open_to_work": lambda d: "turned on open-to-work",
    "interest_expressed": lambda d: f"said \"{d.get('said')}\"",
    "revisit_due": lambda d: f"follow-up due ({d.get('due_on')})",
    "tenure_milestone": lambda d: f"{d.get('months')} months at {d.get('company')}",
}


def _describe_signal(signal: DetectedSignal) -> str:
    """What changed, in words, for the alert's reasons."""
    describe = _SIGNAL_TEXT.get(signal.type)
    return describe(signal.detail) if describe else signal.type.replace("_", " ")


def _describe_role_change(before: Optional[Role], after: Role) -> str:
    if after.status == "deleted":
        return f"role {after.role_id} deleted"
    if before is None:
        return f"role {after.role_id} ({after.title}) created"
    if before.status != "open" and after.status == "open":
        return f"role {after.role_id} ({after.title}) reopened"
    if after.status != "open":
        return f"role {after.role_id} {after.status}"
    changes = "; ".join(_spec_changes(before, after))
    return f"role {after.role_id} ({after.title}) changed" + (f": {changes}" if changes else "")


def _spec_changes(before: Role, after: Role) -> list[str]:
    """What a role edit changed, in words ("must-have + Kafka − PostgreSQL", "threshold 0.8 → 0.7")."""
    found = [_skills_change("must-have", before.must_have, after.must_have),
             _skills_change("nice-to-have", before.nice_to_have, after.nice_to_have)]
    for label, attribute in (("seniority", "seniority"), ("min years", "min_years"), ("locations", "locations"),
                             ("remote", "remote"), ("domains", "domains"),
                             ("excluded companies", "exclude_companies"), ("threshold", "threshold")):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            found.append(f"{label} {_shown(old)} → {_shown(new)}")
    return [change for change in found if change]


def _skills_change(label: str, old: tuple[str, ...], new: tuple[str, ...]) -> Optional[str]:
    added = ", ".join(skill_label(s) for s in new if s not in old)
    removed = ", ".join(skill_label(s) for s in old if s not in new)
    if not (added or removed):
        return None
    return " ".join([label] + [f"+ {added}"] * bool(added) + [f"− {removed}"] * bool(removed))


def _shown(value: Any) -> str:
    if isinstance(value, (frozenset, tuple)):
        return ", ".join(sorted(value)) or "any"
    return "any" if value is None else f"{value:g}" if isinstance(value, float) else str(value).lower()
