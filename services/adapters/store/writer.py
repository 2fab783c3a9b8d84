"""The batch writer: what the handlers decided (Effects), as rows and outbox messages.

It gathers a batch's effects and writes them in bulk when flushed (one executemany per
table and kind of change), inside the batch's one transaction. A candidate changed by
several events of a batch is written once, in its final state; a pair likewise; outbox
messages keep their order.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from schemas import bounds
from schemas.topics import Topics
from services.adapters.store.db import utcnow
from services.adapters.store.loaders import chunks
from services.adapters.store.models import (
    AlertRow,
    Candidate,
    CandidatePlace,
    CandidateSkill,
    FollowUp,
    HeldBackRow,
    LeadHistoryRow,
    LeadRow,
    MatchState,
    Note,
    OutboxMessage,
    ProcessedEvent,
    ProfileSnapshot,
    Signal,
)
from services.adapters.store.outbox import HeldMessage
from services.domain.context import CandidateContext, Snapshot
from services.domain.effects import Effects, FollowUpRecord, HeldBack, NewSkill, NoteRecord, SignalRecord
from services.domain.leads import Lead, LeadChange
from services.domain.transitions import Outgoing, PairUpdate

_candidates, _snapshots, _skills = Candidate.__table__, ProfileSnapshot.__table__, CandidateSkill.__table__
_places, _notes, _follow_ups, _signals = (CandidatePlace.__table__, Note.__table__, FollowUp.__table__,
                                          Signal.__table__)
_pairs, _processed, _outbox = MatchState.__table__, ProcessedEvent.__table__, OutboxMessage.__table__
_leads, _history, _alerts, _held = LeadRow.__table__, LeadHistoryRow.__table__, AlertRow.__table__, HeldBackRow.__table__


class BatchWriter:
    """`holder`: when given, outbox rows are written held by it (the worker's direct relay),
    and `written` lists them for it to publish once the transaction commits."""

    def __init__(self, session: Session, topics: Topics, now: datetime, holder: Optional[str] = None):
        self.session, self.topics, self.now, self.holder = session, topics, now, holder
        self.written: list[HeldMessage] = []
        self._reset()

    def _reset(self) -> None:
        self.candidates: dict[str, tuple[CandidateContext, bool]] = {}      # id -> (final context, insert?)
        self.snapshots: dict[tuple[str, str], tuple[Snapshot, bool]] = {}  # (id, source) -> (final, insert?)
        self.skills: list[NewSkill] = []
        self.places: dict[str, tuple[str, ...]] = {}
        self.notes: list[NoteRecord] = []
        self.follow_ups: dict[str, FollowUpRecord] = {}
        self.signals: dict[str, SignalRecord] = {}
        self.pairs: dict[tuple[str, str], PairUpdate] = {}
        self.processed: list[tuple[str, str]] = []
        self.outbox: dict[str, tuple[Outgoing, bool]] = {}                  # message id -> (message, dedupe?)
        self.leads: dict[tuple[str, str], tuple[Lead, bool]] = {}            # (role, candidate) -> (final, insert?)
        self.history: list[dict[str, Any]] = []
        self.held_back: list[HeldBack] = []

    # -- gathering ---------------------------------------------------------------------

    def add(self, effects: Effects) -> None:
        context = effects.context
        if context is not None and not effects.stale and (effects.candidate_changed or
                                                           context.candidate_id in self.candidates):
            created = self.candidates.get(context.candidate_id, (None, effects.created))[1]
            self.candidates[context.candidate_id] = (context, created)
        if effects.snapshot is not None:
            key = (context.candidate_id, effects.snapshot.source)
            created = self.snapshots.get(key, (None, effects.snapshot_created))[1]
            self.snapshots[key] = (effects.snapshot, created)
        if effects.places is not None:
            self.places[context.candidate_id] = effects.places
        self.skills.extend(effects.skills)
        if effects.note is not None:
            self.notes.append(effects.note)
        if effects.follow_up is not None:
            self.follow_ups[effects.follow_up.follow_up_id] = effects.follow_up
        for record in effects.signals:
            self.signals.setdefault(record.signal_id, record)
        for update_ in effects.pairs:
            self.add_pair(update_)
        for message in effects.messages:
            self.add_message(message)
        for update_ in effects.leads:
            key = (update_.lead.role_id, update_.lead.candidate_id)
            self.leads[key] = (update_.lead, self.leads.get(key, (None, update_.new))[1])
            if update_.change is not None:
                self.history.append({"role_id": key[0], "candidate_id": key[1], **_change_row(update_.change)})
        self.held_back.extend(effects.held_back)

    def add_pair(self, change: PairUpdate) -> None:
        """A later change of the same pair in this batch keeps the first one's insert and the
        latest words and time, where the later one has none."""
        key = (change.role_id, change.candidate_id)
        earlier = self.pairs.get(key)
        if earlier is not None:
            change = PairUpdate(change.role_id, change.candidate_id, change.state, new=earlier.new,
                                reasons=change.reasons if change.reasons is not None else earlier.reasons,
                                changed_at=change.changed_at or earlier.changed_at)
        self.pairs[key] = change

    def add_message(self, message: Outgoing, dedupe: bool = False) -> None:
        """Alerts and signals cannot repeat (idempotency records and the state machine see to
        it); a dead letter can, when its record is redelivered, so only it is checked."""
        self.outbox.setdefault(message.message_id, (message, dedupe))

    def add_processed(self, stream: str, event_id: str) -> None:
        self.processed.append((stream, event_id))

    # -- writing -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything gathered, then start gathering anew."""
        self._write_candidates()
        self._write_snapshots()
        self._insert(_skills, [_skill_row(s) for s in self.skills])
        self._write_places()
        self._insert(_notes, [vars(n) for n in self.notes])
        self._write_follow_ups()
        self._insert(_signals, [_signal_row(s) for s in self.signals.values()])
        self._write_pairs()
        self._write_leads()
        self._insert(_held, [{"alert_id": h.alert_id, "role_id": h.role_id, "candidate_id": h.candidate_id,
                              "reason": h.reason[:300], "event_id": h.event_id, "created_at": h.at}
                             for h in self.held_back])
        self._insert(_processed, [{"stream": s, "event_id": e, "processed_at": self.now} for s, e in self.processed])
        self._write_outbox()
        self._reset()

    def _insert(self, table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(table), rows)

    def _update(self, table, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        """UPDATE by primary key, one executemany per set of columns."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(sorted(k for k in row if k not in keys)), []).append(row)
        for columns, group in by_columns.items():
            statement = (update(table).where(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
                         .values({c: bindparam(f"new_{c}") for c in columns}))
            self.session.execute(statement, [{**{f"key_{k}": r[k] for k in keys},
                                              **{f"new_{c}": r[c] for c in columns}} for r in group])

    def _write_candidates(self) -> None:
        rows = {cid: (_candidate_row(context, self.now), created)
                for cid, (context, created) in self.candidates.items()}
        self._insert(_candidates, [row for row, created in rows.values() if created])
        self._update(_candidates, ("candidate_id",), [row for row, created in rows.values() if not created])

    def _write_snapshots(self) -> None:
        rows = [(_snapshot_row(cid, snapshot), created) for (cid, _), (snapshot, created) in self.snapshots.items()]
        self._insert(_snapshots, [row for row, created in rows if created])
        self._update(_snapshots, ("candidate_id", "source"), [row for row, created in rows if not created])

    def _write_places(self) -> None:
        """Keep candidate_places in step with the location (only where it changed)."""
        for part in chunks(list(self.places)):
            self.session.execute(delete(_places).where(_places.c.candidate_id.in_(part)))
        self._insert(_places, [{"candidate_id": cid, "place": place}
                               for cid, places in self.places.items() for place in places])

    def _write_follow_ups(self) -> None:
        if not self.follow_ups:
            return
        ids = list(self.follow_ups)
        existing = {i for part in chunks(ids) for i in self.session.scalars(
            select(_follow_ups.c.follow_up_id).where(_follow_ups.c.follow_up_id.in_(part)))}
        rows = [vars(f) for f in self.follow_ups.values()]
        self._insert(_follow_ups, [r for r in rows if r["follow_up_id"] not in existing])
        self._update(_follow_ups, ("follow_up_id",), [r for r in rows if r["follow_up_id"] in existing])

    def _write_pairs(self) -> None:
        rows = [(_pair_row(change), change.new) for change in self.pairs.values()]
        self._insert(_pairs, [row for row, new in rows if new])
        self._update(_pairs, ("role_id", "candidate_id"), [row for row, new in rows if not new])

    def _write_leads(self) -> None:
        rows = [(_lead_row(lead), created) for lead, created in self.leads.values()]
        self._insert(_leads, [row for row, created in rows if created])
        self._update(_leads, ("role_id", "candidate_id"), [row for row, created in rows if not created])
        self._insert(_history, self.history)

    def _write_outbox(self) -> None:
        checked = [mid for mid, (_, dedupe) in self.outbox.items() if dedupe]
        present = {mid for part in chunks(checked) for mid in self.session.scalars(
            select(_outbox.c.message_id).where(_outbox.c.message_id.in_(part)))}
        fresh = [m for mid, (m, _) in self.outbox.items() if mid not in present]
        held_at = utcnow()  # the hold's lease runs from about the commit, not from the batch's start
        rows = [{"topic": self.topics.physical(m.topic), "key": m.key or "", "message_id": m.message_id,
                 "payload": m.payload, "created_at": self.now, "attempts": 0,
                 "candidate_id": m.payload.get("candidate_id")} for m in fresh]
        if self.holder is not None:
            for row in rows:
                row.update(claimed_by=self.holder, claimed_at=held_at, attempts=1)
            self.written += [HeldMessage(row["topic"], row["key"].encode("utf-8", "replace") if row["key"] else None, row["message_id"],
                                         row["payload"], held_at) for row in rows]
        self._insert(_outbox, rows)
        # Alerts and withdrawals are also kept for good (the outbox is pruned).
        self._insert(_alerts, [{"alert_id": m.message_id, "type": m.payload["type"], "role_id": m.payload["role_id"],
                                "candidate_id": m.payload["candidate_id"], "payload": m.payload, "created_at": self.now}
                               for m in fresh if m.payload.get("type") in ("match.alert", "match.withdrawn")])


def _candidate_row(context: CandidateContext, now: datetime) -> dict[str, Any]:
    view = context.view or {}
    current = view.get("current") or {}
    city = view.get("city")
    return {
        "candidate_id": context.candidate_id,
        "view": {"profile": dict(context.view) if context.view is not None else None,
                 "facts": context.facts.to_json()},
        "current_company": current.get("company"), "seniority": view.get("seniority"),
        "city": city[:bounds.LOCATION_MAX] if city else city,  # folding can lengthen a location
        "years_experience": view.get("years_experience"), "do_not_contact": context.do_not_contact,
        "readiness": context.readiness, "readiness_reasons": list(context.readiness_reasons), "updated_at": now,
    }


def _snapshot_row(candidate_id: str, snapshot: Snapshot) -> dict[str, Any]:
    return {"candidate_id": candidate_id, "source": snapshot.source, "event_id": snapshot.event_id,
            "occurred_at": snapshot.occurred_at, "profile": dict(snapshot.profile),
            "stated_at": dict(snapshot.stated_at)}


def _skill_row(skill: NewSkill) -> dict[str, Any]:
    return {"candidate_id": skill.candidate_id, "skill": skill.skill, "origin": skill.origin,
            "evidence": skill.evidence[:bounds.EVIDENCE_MAX], "source_event_id": skill.source_event_id,
            "first_seen_at": skill.first_seen_at}


def _signal_row(record: SignalRecord) -> dict[str, Any]:
    return {**vars(record), "evidence": record.evidence[:bounds.EVIDENCE_MAX]}


def _pair_row(change: PairUpdate) -> dict[str, Any]:
    state = change.state
    row: dict[str, Any] = {"role_id": change.role_id, "candidate_id": change.candidate_id, "relevant": state.relevant,
                           "fit": state.fit, "readiness": state.readiness, "transitions": state.transitions,
                           "last_alert_id": state.last_alert_id, "silent": state.silent}
    if change.reasons is not None or change.new:
        row["reasons"] = list(change.reasons or ())
    if change.changed_at is not None or change.new:
        row["changed_at"] = change.changed_at
    return row


def _lead_row(lead: Lead) -> dict[str, Any]:
    return {"role_id": lead.role_id, "candidate_id": lead.candidate_id, "status": lead.status, "reason": lead.reason,
            "assignee": lead.assignee, "note": lead.note, "until": lead.until.isoformat() if lead.until else None,
            "blocked_at": lead.blocked_at, "furthest": lead.furthest, "created_at": lead.created_at,
            "first_alert_id": lead.first_alert_id, "first_signals": list(lead.first_signals),
            "readiness_at_alert": lead.readiness_at_alert, "first_action_at": lead.first_action_at,
            "updated_at": lead.updated_at or lead.created_at, "updated_by": lead.updated_by}


def _change_row(change: LeadChange) -> dict[str, Any]:
    return {"event_id": change.event_id, "status": change.status, "reason": change.reason,
            "assignee": change.assignee, "note": change.note, "until": change.until.isoformat() if change.until else None,
            "actor": change.actor, "occurred_at": change.occurred_at}
