"""The pipeline: one batch of records in, one transaction out.

For each batch: decode, skip event ids seen before, load every candidate's context in a
few queries, let the handlers decide each event in order (services.app.handlers: pure),
and let the batch writer store the new contexts, signals, pair states, idempotency records
and outbox messages (alerts, signals, dead letters) in ONE transaction. The relay publishes
the outbox afterwards; a crash anywhere loses and doubles nothing.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Callable, Optional

from sqlalchemy import bindparam, delete
from sqlalchemy.orm import Session, sessionmaker

from schemas import ProfileEvent, RoleSpec
from schemas.events import CandidateErased, as_utc
from schemas.topics import LOGICAL, Topics
from services.adapters.kafka.records import RawRecord
from services.adapters.store import erasure, queries
from services.adapters.store.db import utcnow
from services.adapters.store.loaders import chunks, load_contexts, load_facts, load_leads, load_pairs
from services.adapters.store.models import CandidateSkill
from services.adapters.store.outbox import HeldMessage
from services.adapters.store.writer import BatchWriter
from services.app.decoding import CandidateErasure, Rejected, RoleTombstone, dead_letter, decode, decode_safely
from services.app.handlers import CANDIDATE_HANDLERS, Rules
from services.app.pairs import RoleCandidate, decide_role
from services.config import DEFAULT_TENURE_WINDOWS_MONTHS, TOPICS
from services.domain.context import CandidateContext
from services.domain.effects import Effects
from services.domain.matcher import Role, RoleIndex, closed_role
from services.domain.reasons import describe_role_change
from services.domain.transitions import Outgoing, Trigger, stable_id
from services.errors import failure_reason, is_transient, log_fields
from services.logs import get_logger

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
    lead_changes: dict[str, int] = field(default_factory=dict)   # by new status
    held_back: dict[str, int] = field(default_factory=dict)      # by kind: not_a_fit, snoozed, closed
    outgoing: list[HeldMessage] = field(default_factory=list)    # written held: for the direct relay

    def add(self, other: "BatchResult") -> None:
        for name in ("processed", "duplicates", "stale", "dead_letters", "signals", "alerts", "withdrawals"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.counts_by_type, other.counts_by_type), (self.lead_changes, other.lead_changes),
                             (self.held_back, other.held_back)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.outgoing += other.outgoing

    def count(self, effects: Effects) -> None:
        self.signals += len(effects.signals)
        for record in effects.signals:
            self.counts_by_type[record.type] = self.counts_by_type.get(record.type, 0) + 1
        self.alerts += effects.alerts
        self.withdrawals += effects.withdrawals
        for update in effects.leads:
            if update.change is not None:
                self.lead_changes[update.change.status] = self.lead_changes.get(update.change.status, 0) + 1
        for held in effects.held_back:
            self.held_back[held.kind] = self.held_back.get(held.kind, 0) + 1


class Pipeline:
    """Owns the role index of this worker and runs batches through the store."""

    def __init__(self, sessions: sessionmaker[Session], role_index: Optional[RoleIndex] = None,
                 clock: Callable[[], datetime] = utcnow,
                 tenure_windows: tuple[int, ...] = DEFAULT_TENURE_WINDOWS_MONTHS, topics: Topics = TOPICS):
        self.sessions = sessions
        self.roles = role_index or RoleIndex()
        self.clock = clock
        self.rules = Rules(tenure_windows=tenure_windows)
        self.topics = topics
        self.role_revision_seen = 0
        self.outbox_holder: Optional[str] = None  # the worker's direct relay, which publishes after the commit
        self._roles_at_freeze: Optional[int] = None  # index size at the last gc.freeze

    def process_safely(self, records: list[RawRecord], decoded: Optional[list] = None) -> BatchResult:
        """Like `process`, but a record that fails for a reason retrying cannot fix goes to
        dead-letters alone, and the rest of the batch is stored.

        Transient database errors (connection lost, lock timeout, deadlock) are raised: the
        caller retries the batch and the records are not acknowledged meanwhile. Any other
        failure re-runs the batch one record at a time (a clash with a concurrent writer
        passes then), and a record that still fails is dead-lettered with the reason.
        """
        try:
            return self.process(records, decoded)
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
                    batch = Batch(self, session)
                    batch.reject(record, reason if keep_value else
                                 f"{reason}; the original value could not be stored with it", keep_value)
                    batch.writer.flush()
                    return batch.result
            except Exception as exc:
                if is_transient(exc) or not keep_value:
                    raise
                log.error("dead_letter_refused", topic=record.topic, offset=record.offset, **log_fields(exc))
        raise AssertionError("unreachable")

    def process(self, records: list[RawRecord], decoded: Optional[list] = None) -> BatchResult:
        """One transaction for the whole batch. Raises on a database failure (the caller retries).
        `decoded`: what the records decode to, when the caller decoded them already."""
        began = time.perf_counter()
        with self.sessions.begin() as session:
            self.refresh_roles(session)
            result = Batch(self, session).run(records, decoded)
        self.freeze_long_lived()
        log.info("batch_stored", ms=round((time.perf_counter() - began) * 1e3, 1), events=len(records), processed=result.processed, duplicates=result.duplicates,
                 signals=result.signals, alerts=result.alerts, withdrawals=result.withdrawals,
                 dead_letters=result.dead_letters)
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
        for role_id, spec, deleted, revision, changed_at in queries.roles_changed_since(session,
                                                                                        self.role_revision_seen):
            if deleted:
                self.roles.remove(role_id)
            else:
                self.roles.upsert(Role.from_spec(RoleSpec.model_validate(spec), as_utc(changed_at)))
            self.role_revision_seen = max(self.role_revision_seen, revision)


class Batch:
    """The unit of work of one batch: its session, its contexts and its writer."""

    def __init__(self, pipeline: Pipeline, session: Session):
        self.p = pipeline
        self.session = session
        self.now = pipeline.clock()
        self.writer = BatchWriter(session, pipeline.topics, self.now, pipeline.outbox_holder)
        self.result = BatchResult(outgoing=self.writer.written)
        self.contexts: dict[str, CandidateContext] = {}
        self.gone: set[str] = set()  # candidates erased (and not re-admitted): their events are refused
        self.skills_dropped: list[dict[str, str]] = []  # (candidate, skill) rows to delete before the next flush

    def run(self, records: list[RawRecord], items: Optional[list] = None) -> BatchResult:
        decoded = list(zip(records, items if items is not None else [decode(record) for record in records]))
        keys = [None if isinstance(item, Rejected) else idempotency_key(record, item) for record, item in decoded]
        seen = self._already_processed([key for key in keys if key is not None])
        about = [item.candidate_id for _, item in decoded if hasattr(item, "candidate_id")]
        standing = erasure.standing(self.session, about)  # generation and erased now, of the ids ever erased
        self.gone = {cid for cid, (_, erased_now) in standing.items() if erased_now}
        self.contexts = load_contexts(self.session, about, {cid: g for cid, (g, _) in standing.items()})
        for (record, item), key in zip(decoded, keys):
            if isinstance(item, Rejected):
                self.reject(record, item.error)
                continue
            if getattr(item, "candidate_id", None) in self.gone and not self.readmits(item):
                self.reject(record, "the candidate was erased on request; this event is not taken (a profile event "
                                    "with consent_renewed: true re-admits them)", keep_value=False)
                continue
            if key is not None and key in seen:
                self.result.duplicates += 1
                log.info("duplicate_skipped", stream=key[0], event_id=key[1])
                continue
            if key is not None:
                seen.add(key)
            letters = self.result.dead_letters
            self.apply(record, item)
            if key is not None and self.result.dead_letters == letters:
                self.writer.add_processed(*key)  # one its handler refused is not recorded: a replay is taken
            self.result.processed += 1
        self.flush()
        return self.result

    def _already_processed(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The keys among these that an earlier batch recorded (one query per stream)."""
        by_stream: dict[str, list[str]] = {}
        for stream, event_id in set(keys):
            by_stream.setdefault(stream, []).append(event_id)
        return {(stream, e) for stream, ids in by_stream.items()
                for e in queries.processed_event_ids(self.session, stream, ids)}

    def readmits(self, item) -> bool:
        """An erasure again is taken (it changes nothing); consent renewed re-admits the candidate,
        whose context has the generation of its new life already (erasure.standing)."""
        if isinstance(item, CandidateErasure):
            return True
        if isinstance(item, ProfileEvent) and item.consent_renewed:
            erasure.readmit(self.session, item.candidate_id, self.now)
            self.gone.discard(item.candidate_id)
            log.info("candidate_readmitted", candidate_id=item.candidate_id, event_id=item.event_id)
            return True
        return False

    def apply(self, record: RawRecord, item) -> None:
        handler = CANDIDATE_HANDLERS.get(type(item))
        if handler is not None:
            self.apply_candidate_event(record, handler, item)
        elif isinstance(item, CandidateErasure):
            self.apply_erasure(record, item.candidate_id)
        elif isinstance(item, RoleSpec):
            self.apply_role(item.role_id, item, item.event_id or f"{record.position}")
        elif isinstance(item, RoleTombstone):
            self.apply_role(item.role_id, None, f"tombstone {record.position}")

    def apply_candidate_event(self, record: RawRecord, handler, event) -> None:
        context = self.contexts[event.candidate_id]
        effects = handler(context, event, self.p.roles, self.now, self.p.rules)
        if effects.rejected:
            self.reject(record, effects.rejected)
            return
        if effects.stale:
            self.result.stale += 1
            log.info("stale_snapshot_ignored", event_id=event.event_id, candidate_id=event.candidate_id)
            return
        self.contexts[event.candidate_id] = effects.context
        if effects.skills_dropped:
            self.drop_skills(event.candidate_id, effects.skills_dropped)
        self.record(effects, event.event_id)

    def drop_skills(self, candidate_id: str, keys: tuple[str, ...]) -> None:
        """Skill rows a rescore re-keyed or no longer reads: not written if still pending, else
        deleted before the writer's next flush (which may insert the same keys anew)."""
        gone = set(keys)
        self.writer.skills = [s for s in self.writer.skills if s.candidate_id != candidate_id or s.skill not in gone]
        self.skills_dropped += [{"cid": candidate_id, "key": key} for key in keys]

    def flush(self) -> None:
        if self.skills_dropped:
            table = CandidateSkill.__table__
            self.session.execute(delete(table).where(table.c.candidate_id == bindparam("cid"),
                                                     table.c.skill == bindparam("key")), self.skills_dropped)
            self.skills_dropped = []
        self.writer.flush()

    def record(self, effects: Effects, event_id: str) -> None:
        """Hand the effects to the writer, count them, and say what happened (ids only; at DEBUG:
        one line per signal and alert costs a twentieth of a batch; the batch's line is INFO)."""
        self.writer.add(effects)
        self.result.count(effects)
        for signal in effects.signals:
            log.debug("signal_detected", event_id=event_id, candidate_id=signal.candidate_id, signal=signal.type)
        for message in effects.messages:
            kind = message.payload.get("type")
            if kind in ("match.alert", "match.withdrawn"):
                log.debug("match_alert" if kind == "match.alert" else "match_withdrawn", event_id=event_id,
                         role_id=message.payload["role_id"], candidate_id=message.payload["candidate_id"],
                         alert_id=message.message_id)

    def reject(self, record: RawRecord, error: str, keep_value: bool = True) -> None:
        letter = dead_letter(record, error, self.now, keep_value)
        from_kafka = record.offset is not None
        message_id = stable_id("dl", record.position) if from_kafka else stable_id("dl", record.topic, self.now,
                                                                                    id(record))
        self.writer.add_message(Outgoing(LOGICAL.dead_letters, letter.key or "", message_id,
                                         letter.model_dump(mode="json")), dedupe=from_kafka)
        self.result.dead_letters += 1
        log.warning("dead_lettered", topic=record.topic, partition=record.partition, offset=record.offset, error=error)

    def apply_erasure(self, record: RawRecord, candidate_id: str) -> None:
        """Every row about the candidate, gone in this transaction; downstream told on
        candidate-erasures; the id remembered only as a salted hash. Later events are refused,
        in this batch too, until consent re-admits the candidate into a new generation."""
        self.flush()
        removed, generation = erasure.erase(self.session, candidate_id, self.now)
        self.gone.add(candidate_id)
        self.contexts[candidate_id] = CandidateContext(candidate_id, generation=generation)
        notice = CandidateErased(candidate_id=candidate_id, erased_at=self.now, triggered_by=record.position)
        self.writer.add_message(Outgoing(LOGICAL.candidate_erasures, candidate_id,
                                         stable_id("er", record.position), notice.model_dump(mode="json")),
                                dedupe=True)
        log.info("candidate_erased", candidate_id=candidate_id, rows=removed)

    # -- role specs -------------------------------------------------------------------

    def apply_role(self, role_id: str, spec: Optional[RoleSpec], event_id: str) -> None:
        """Store the spec, update the index, and settle exactly the candidates it can affect,
        chunk by chunk (a role that matches many candidates streams through memory)."""
        self.flush()  # the queries below must see this batch's candidates
        stored = queries.stored_role(self.session, role_id)
        before = Role.from_spec(RoleSpec.model_validate(stored)) if stored is not None else None
        revision = queries.save_role(self.session, role_id, spec.model_dump(mode="json") if spec else None, self.now)
        if spec is None:
            self.p.roles.remove(role_id)
            role = closed_role(role_id, "deleted")
        else:
            role = Role.from_spec(spec, changed_at=self.now)
            self.p.roles.upsert(role)
        self.p.role_revision_seen = max(self.p.role_revision_seen, revision)
        candidate_ids = queries.candidates_for_role(self.session, role) if role.status == "open" else []
        candidate_ids = sorted(set(candidate_ids) | set(queries.relevant_candidates(self.session, role_id)))
        trigger = Trigger(event_id, change=[describe_role_change(before, role)])
        for part in chunks(candidate_ids):
            effects = decide_role(self.role_candidates(role, part), role, trigger, self.now)
            self.record(effects, event_id)
            self.follow_live_contexts(effects)
            self.flush()
        log.info("role_spec_applied", role_id=role_id, event_id=event_id, status=role.status,
                 candidates_evaluated=len(candidate_ids))

    def role_candidates(self, role: Role, candidate_ids: list[str]) -> list[RoleCandidate]:
        """What the role path needs of each candidate: this batch's live context where there is
        one, else plain rows (no context: the role path changes none)."""
        stored = [cid for cid in candidate_ids if cid not in self.contexts]
        generations = erasure.generations(self.session, stored)  # of the ids ever erased: one query
        facts = load_facts(self.session, stored, only_skills=role.wanted)  # the facts meet this role only
        pairs = load_pairs(self.session, role.role_id, stored, generations)
        leads = load_leads(self.session, stored, role.role_id)
        found = []
        for cid in candidate_ids:
            if cid in self.contexts:
                live = self.contexts[cid]
                found.append(RoleCandidate(cid, live.matcher_facts, live.pairs.get(role.role_id),
                                           live.leads.get(role.role_id), live.generation))
            elif cid in facts:
                found.append(RoleCandidate(cid, facts[cid], pairs.get(cid), leads.get(cid, {}).get(role.role_id),
                                           generations.get(cid, 0)))
        return found

    def follow_live_contexts(self, effects: Effects) -> None:
        """Pairs this batch's candidates entered or left through a role change, and leads it
        started: their contexts must know, for the events after it in the batch."""
        for change in effects.pairs:
            context = self.contexts.get(change.candidate_id)
            if context is not None:
                pairs = MappingProxyType({**context.pairs, change.role_id: change.state})
                self.contexts[change.candidate_id] = replace(context, pairs=pairs)
        for update in effects.leads:
            context = self.contexts.get(update.lead.candidate_id)
            if context is not None:
                leads = MappingProxyType({**context.leads, update.lead.role_id: update.lead})
                self.contexts[update.lead.candidate_id] = replace(context, leads=leads)


def idempotency_key(record: RawRecord, item) -> Optional[tuple[str, str]]:
    """(stream, id) recorded in processed_events, or None for what needs no record.

    Role specs count too: replaying an old spec after a newer one would bring the old one
    back (and alert again). One without an event_id (a tombstone always) is known by its
    position in the single-partition role-specs topic, which a redelivery keeps."""
    event_id = getattr(item, "event_id", None)
    if isinstance(item, CandidateErasure):
        return ("CandidateErasure", record.position) if record.offset is not None else None
    if isinstance(item, (RoleSpec, RoleTombstone)):
        if event_id:
            return ("RoleSpec", event_id)
        return ("RoleSpecPosition", record.position) if record.offset is not None else None
    return (type(item).__name__, event_id) if event_id else None
