"""SQLAlchemy tables of the candidate context store.

The same models run on SQLite (embedded default) and PostgreSQL (production); the
Alembic migrations in `migrations/` create them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas import bounds

# Column sizes come from the wire bounds: what passes validation fits (tests/unit/test_bounds.py).
Id = String(bounds.ID_MAX)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Candidate(Base):
    """The merged current view of a candidate, plus the columns the matcher filters on."""
    __tablename__ = "candidates"
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    view: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_company: Mapped[Optional[str]] = mapped_column(String(bounds.COMPANY_MAX), index=True)
    seniority: Mapped[Optional[str]] = mapped_column(String(40))
    city: Mapped[Optional[str]] = mapped_column(String(bounds.LOCATION_MAX), index=True)
    years_experience: Mapped[Optional[float]] = mapped_column(Float)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    readiness: Mapped[float] = mapped_column(Float, default=0.0)
    readiness_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]


class ProfileSnapshot(Base):
    """The newest snapshot applied per (candidate, source): the merge reads these."""
    __tablename__ = "profile_snapshots"
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)  # bounds.SOURCE_MAX (64) and room
    event_id: Mapped[str] = mapped_column(Id)
    occurred_at: Mapped[datetime]
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    # field -> occurred_at (ISO) of this source's snapshot that last stated it: a partial
    # newer snapshot must not make the fields it left out look new.
    stated_at: Mapped[Optional[dict[str, str]]] = mapped_column(JSON, nullable=True)


class CandidateSkill(Base):
    """One row per (candidate, canonical skill), with where the evidence came from."""
    __tablename__ = "candidate_skills"
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    skill: Mapped[str] = mapped_column(String(bounds.SKILL_KEY_MAX), primary_key=True)
    origin: Mapped[str] = mapped_column(String(bounds.ORIGIN_MAX))  # "profile:<source>" or "note"
    evidence: Mapped[str] = mapped_column(String(bounds.EVIDENCE_MAX))
    source_event_id: Mapped[str] = mapped_column(Id)
    first_seen_at: Mapped[datetime]

    # Role -> candidates lookups go skill-first: never a scan of every candidate.
    __table_args__ = (Index("ix_candidate_skills_skill_candidate", "skill", "candidate_id"),)


class CandidatePlace(Base):
    """Every folded part of a candidate's location ("lisbon", "portugal"): a role with
    places and no must-have finds its candidates by place, not by reading all of them."""
    __tablename__ = "candidate_places"
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    place: Mapped[str] = mapped_column(String(bounds.LOCATION_MAX), primary_key=True)

    __table_args__ = (Index("ix_candidate_places_place_candidate", "place", "candidate_id"),)


class Signal(Base):
    __tablename__ = "signals"
    signal_id: Mapped[str] = mapped_column(Id, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(Id, index=True)
    type: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[str] = mapped_column(String(300))
    source_event_id: Mapped[str] = mapped_column(Id)
    occurred_at: Mapped[datetime]
    detected_at: Mapped[datetime]


class Note(Base):
    __tablename__ = "notes"
    event_id: Mapped[str] = mapped_column(Id, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(Id, index=True)
    role_id: Mapped[Optional[str]] = mapped_column(Id)
    author: Mapped[Optional[str]] = mapped_column(String(bounds.AUTHOR_MAX))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    extraction: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FollowUp(Base):
    """A time a note asked us to come back; the scheduler fires `revisit_due` then."""
    __tablename__ = "follow_ups"
    follow_up_id: Mapped[str] = mapped_column(Id, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(Id, index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    note_event_id: Mapped[str] = mapped_column(Id)
    surface: Mapped[str] = mapped_column(String(300))
    fired_at: Mapped[Optional[datetime]]


class RoleSpecRow(Base):
    __tablename__ = "role_specs"
    role_id: Mapped[str] = mapped_column(Id, primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    owner: Mapped[Optional[str]] = mapped_column(String(bounds.OWNER_MAX), index=True)  # from the spec: inbox filters
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every change: workers refresh their in-memory role index from it.
    revision: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_at: Mapped[datetime]


class MatchState(Base):
    """The per-(role, candidate) state machine: alerts fire only on entering relevance."""
    __tablename__ = "match_state"
    role_id: Mapped[str] = mapped_column(Id, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    relevant: Mapped[bool] = mapped_column(Boolean)
    fit: Mapped[float] = mapped_column(Float)
    readiness: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    transitions: Mapped[int] = mapped_column(Integer, default=0)
    last_alert_id: Mapped[Optional[str]] = mapped_column(Id)
    changed_at: Mapped[datetime]
    # Entered relevance with its alert held back by a lead's feedback: no withdrawal either.
    silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (
        Index("ix_match_state_role_relevant", "role_id", "relevant"),
        Index("ix_match_state_candidate", "candidate_id"),
    )


class ProcessedEvent(Base):
    """Idempotency: an event id seen before changes nothing."""
    __tablename__ = "processed_events"
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    event_id: Mapped[str] = mapped_column(Id, primary_key=True)
    processed_at: Mapped[datetime]


class OutboxMessage(Base):
    """Transactional outbox: written with the state change, relayed to Kafka after.

    A relay claims unsent rows for a short lease (claimed_by, claimed_at); a row claimed
    before whose lease ran out (attempts > 1) is "in doubt": it may be on the topic
    already, so the relay reads the topic back before sending it again."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(Text)  # a dead letter keeps the key as received, of any length
    message_id: Mapped[str] = mapped_column(Id, unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    sent_at: Mapped[Optional[datetime]]
    claimed_by: Mapped[Optional[str]] = mapped_column(String(200))
    claimed_at: Mapped[Optional[datetime]]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the broker refused the message for good (too large, ...): a small dead
    # letter saying so was published instead, pointing to this row.
    failed_reason: Mapped[Optional[str]] = mapped_column(String(500))
    candidate_id: Mapped[Optional[str]] = mapped_column(Id, index=True)  # whom it is about: erasure finds it

    # by topic: dead letters for `radar dlq` and retention without reading the whole outbox
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"), Index("ix_outbox_topic", "topic", "id"))


class SchedulerLease(Base):
    """Leader election for `radar scheduler`: only the holder of a live lease fires jobs."""
    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class SchedulerRun(Base):
    """When a periodic scan last completed, so a new leader knows whether today's is done."""
    __tablename__ = "scheduler_runs"
    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_on: Mapped[str] = mapped_column(String(10))  # ISO date
    updated_at: Mapped[datetime]


class WorkerHeartbeat(Base):
    """Each `radar worker` says here, every few seconds, that it lives and whether its
    current batch is stuck retrying; /health and /metrics read it from any API process."""
    __tablename__ = "worker_heartbeats"
    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    last_batch_at: Mapped[Optional[datetime]]
    retrying_since: Mapped[Optional[datetime]]
    last_error: Mapped[Optional[str]] = mapped_column(String(300))


class SubscriptionRow(Base):
    """Who is told of what, and how (services.domain.notify.Subscription)."""
    __tablename__ = "subscriptions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))  # a URL, or an e-mail address
    secret: Mapped[Optional[str]] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)  # roles, owner, min_fit, min_readiness, types
    mode: Mapped[str] = mapped_column(String(10))
    digest: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    quiet_hours: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    # "api", or "role-owner": the default a role's owner gets (role_id says which role)
    origin: Mapped[str] = mapped_column(String(20))
    role_id: Mapped[Optional[str]] = mapped_column(Id)
    created_at: Mapped[datetime]
    # Removed subscriptions are kept, so a role owner's removed default is not made again.
    deleted_at: Mapped[Optional[datetime]]


class DeliveryRow(Base):
    """One message (or one digest) for one subscription: written before it is sent, marked
    after. (subscription_id, key) is unique: an alert is delivered once per subscription."""
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))  # the alert_id or signal_id; "digest:<period>"
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # "instant" | "digest"
    payload: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)  # the enriched message
    status: Mapped[str] = mapped_column(String(12))  # "pending" | "delivered" | "failed"
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    first_attempt_at: Mapped[Optional[datetime]]
    claimed_until: Mapped[Optional[datetime]]
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    message_created_at: Mapped[Optional[datetime]]  # the alert's created_at: delivery latency
    candidate_id: Mapped[Optional[str]] = mapped_column(Id, index=True)  # whom it is about: erasure finds it
    created_at: Mapped[datetime]
    delivered_at: Mapped[Optional[datetime]]

    __table_args__ = (
        Index("ux_deliveries_subscription_key", "subscription_id", "key", unique=True),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


class DigestItem(Base):
    """A message waiting in a subscription's digest for its period."""
    __tablename__ = "digest_items"
    subscription_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    period: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    candidate_id: Mapped[Optional[str]] = mapped_column(Id, index=True)

    __table_args__ = (Index("ix_digest_items_period", "subscription_id", "period"),)


class LeadRow(Base):
    """A (role, candidate) lead: what people did with the pair's alert (services.domain.leads)."""
    __tablename__ = "leads"
    role_id: Mapped[str] = mapped_column(Id, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(Id, primary_key=True)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[Optional[str]] = mapped_column(String(30))
    assignee: Mapped[Optional[str]] = mapped_column(String(bounds.ASSIGNEE_MAX))
    note: Mapped[Optional[str]] = mapped_column(Text)
    until: Mapped[Optional[str]] = mapped_column(String(10))  # ISO date: snoozed until
    blocked_at: Mapped[Optional[datetime]]
    furthest: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]            # the first alert
    first_alert_id: Mapped[str] = mapped_column(Id)
    first_signals: Mapped[list[Any]] = mapped_column(JSON)
    readiness_at_alert: Mapped[float] = mapped_column(Float)
    first_action_at: Mapped[Optional[datetime]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[Optional[str]] = mapped_column(String(bounds.ACTOR_MAX))

    __table_args__ = (
        # The inbox pages by (created_at, role_id, candidate_id), newest first, within a status or a role.
        Index("ix_leads_status_created", "status", "created_at", "role_id", "candidate_id"),
        Index("ix_leads_role_status", "role_id", "status", "created_at", "candidate_id"),
        Index("ix_leads_created_acted", "created_at", "first_action_at"),  # the funnel's window
        Index("ix_leads_candidate", "candidate_id"),
    )


class LeadHistoryRow(Base):
    """Every change of a lead: who, when, what."""
    __tablename__ = "lead_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role_id: Mapped[str] = mapped_column(Id)
    candidate_id: Mapped[str] = mapped_column(Id)
    event_id: Mapped[str] = mapped_column(Id)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[Optional[str]] = mapped_column(String(30))
    assignee: Mapped[Optional[str]] = mapped_column(String(bounds.ASSIGNEE_MAX))
    note: Mapped[Optional[str]] = mapped_column(Text)
    until: Mapped[Optional[str]] = mapped_column(String(10))
    actor: Mapped[Optional[str]] = mapped_column(String(bounds.ACTOR_MAX))
    occurred_at: Mapped[datetime]

    __table_args__ = (Index("ix_lead_history_pair", "role_id", "candidate_id", "id"),)


class AlertRow(Base):
    """Every alert and withdrawal published, kept (the outbox is pruned after two weeks)."""
    __tablename__ = "alerts"
    alert_id: Mapped[str] = mapped_column(Id, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    role_id: Mapped[str] = mapped_column(Id)
    candidate_id: Mapped[str] = mapped_column(Id)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_alerts_created_type", "created_at", "type"),  # alerts per day
        Index("ix_alerts_pair", "role_id", "candidate_id", "created_at"),
    )


class HeldBackRow(Base):
    """An alert that did not go out because of a lead's feedback, and why."""
    __tablename__ = "held_back_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(Id)
    role_id: Mapped[str] = mapped_column(Id)
    candidate_id: Mapped[str] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(300))
    event_id: Mapped[str] = mapped_column(Id)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_held_back_role", "role_id", "created_at"),)


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is kept (the key itself is shown once, when made)."""
    __tablename__ = "api_keys"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # viewer | recruiter | admin
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    created_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]


class AuditRow(Base):
    """Every change made through the API: who (a key's name or a token's subject), what, when."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ErasedCandidate(Base):
    """A candidate erased on request, remembered only by a salted hash of the id: a later event
    for it is dead-lettered instead of building the profile again (until consent re-admits it).
    The row stays after re-admission: `erasures` is the generation of the candidate's life
    since, part of its alert ids so none repeats an id of an earlier life."""
    __tablename__ = "erased_candidates"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime]
    erasures: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    readmitted_at: Mapped[Optional[datetime]]  # None: erased now (events are refused)


class RadarSecret(Base):
    """Values the service makes once and keeps (the erasure salt)."""
    __tablename__ = "radar_secrets"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class DeadLetterReplay(Base):
    """A dead letter (an outbox row on dead-letters) sent back to its input topic by `radar dlq
    replay`: when, by whom, and where the copy landed. A dead letter at that position is a
    replay's own failure: listed as such, and not replayed again without `--again`."""
    __tablename__ = "dead_letter_replays"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)  # no foreign key: the outbox is pruned
    replayed_at: Mapped[datetime]
    replayed_by: Mapped[Optional[str]] = mapped_column(String(200))
    sent_topic: Mapped[str] = mapped_column(String(300))
    sent_partition: Mapped[int] = mapped_column(Integer)
    sent_offset: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_dead_letter_replays_sent", "sent_topic", "sent_partition", "sent_offset"),)
