"""Dead letters for operators: list them, and replay them through the pipeline after a fix.

A dead letter is an outbox row on the dead-letters topic whose payload is a
`schemas.events.DeadLetter`. `replay` sends the record it stands for back to its input
topic (profile-events, interview-notes, role-specs, lead-events) with the original key and
the original bytes (`value`, or `value_base64` when they were not UTF-8), under the header
`radar-replay-of: <outbox row id>`, and records in `dead_letter_replays` when, by whom and
where the copy landed.

Idempotent: a row recorded as replayed is never sent again. A dead-lettered event was never
processed (nothing is recorded in processed_events for it), so the copy is applied once; a
crash between Kafka's acknowledgement and the record (or two operators replaying at once)
may send a row twice, and the worker skips the second copy by its event_id like any
redelivery (a role spec without an event_id is the one exception: it is known by position).

Never looping: a replay is one pass over the rows selected when it starts. A copy that
fails again becomes a new dead letter at the position the copy landed on; this module
knows it by that position (`replay_of`) and does not replay it unless asked (`again`).
(The header is for whoever reads the topic; the worker does not read it, so the position,
not the header, is what marks a replay's dead letter.) Nothing feeds itself: every send
is an operator's command, and a row is sent once at most; `again` continues the chain
with the newest dead letter of a copy, never the row replayed before.

Not replayed, with the reason: rows whose value was not kept (erased candidates, values
no column took), rows from topics that are not inputs, and role specs whose role changed
after they failed (the copy would bring an older spec back; send the spec again instead).
Order is not preserved against what arrived since: a profile snapshot older than the
newest one changes nothing, but a lead event or role spec is taken as the latest word.
"""
from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Awaitable, Callable, Optional, Sequence, Union

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.events import as_utc
from schemas.topics import LOGICAL, Topics
from services.adapters.store.db import utcnow
from services.adapters.store.loaders import chunks
from services.adapters.store.models import DeadLetterReplay, OutboxMessage, RoleSpecRow

REPLAY_HEADER = "radar-replay-of"
INPUT_TOPICS = (LOGICAL.profile_events, LOGICAL.interview_notes, LOGICAL.role_specs, LOGICAL.lead_events)
REASON_CHARS = 120
SHOWN = 50  # dead letters named one by one in the replay's summary


@dataclass(frozen=True)
class Filters:
    """Which dead letters: error text containing `reason` (any case), dead-lettered on or after
    `since`, from the logical input `topic`."""
    reason: Optional[str] = None
    since: Optional[datetime] = None
    topic: Optional[str] = None


@dataclass(frozen=True)
class DeadLetterEntry:
    id: int
    at: datetime
    topic: str  # as received (physical)
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[str]
    error: str
    has_value: bool
    replayed_at: Optional[datetime] = None
    replayed_by: Optional[str] = None
    replay_of: Optional[int] = None  # the outbox row whose replayed copy this dead letter is

    @property
    def where(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    def line(self) -> str:
        """One line for `radar dlq list`."""
        if self.replayed_at is not None:
            state = f"replayed {self.replayed_at:%Y-%m-%d %H:%M}" + (f" by {self.replayed_by}" if self.replayed_by
                                                                      else "")
        else:
            state = "not replayed" if self.has_value else "no value kept"
        if self.replay_of is not None:
            state += f"; replay of #{self.replay_of}"
        error = " ".join(self.error.split())[:REASON_CHARS]
        return f"#{self.id}  {self.at:%Y-%m-%d %H:%M:%S}  {self.where}  key {self.key or '-'}  {error}  [{state}]"


@dataclass(frozen=True)
class Replay:
    """One record to send again."""
    outbox_id: int
    topic: str  # physical
    key: Optional[bytes]
    value: bytes

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(REPLAY_HEADER, str(self.outbox_id).encode())]


# What a sender gives back for each record, in order: (topic, partition, offset) once Kafka
# acknowledged it, or the exception that refused it.
Landed = Union[tuple[str, int, int], BaseException]
Sender = Callable[[Sequence[Replay]], Awaitable[list[Landed]]]


@dataclass
class ReplayReport:
    dry_run: bool
    sent: list[Replay] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # why -> how many
    skipped_ids: dict[str, list[int]] = field(default_factory=dict)

    def skip(self, outbox_id: int, why: str) -> None:
        self.skipped[why] += 1
        self.skipped_ids.setdefault(why, []).append(outbox_id)


# -- reading ------------------------------------------------------------------------


def parse_since(value: Optional[str]) -> Optional[datetime]:
    """YYYY-MM-DD (midnight UTC) or an ISO date-time; a ValueError naming the flag otherwise."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return as_utc(datetime.combine(date.fromisoformat(value), datetime.min.time()))
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(f"--since: {value!r} is not a date (YYYY-MM-DD) or an ISO date-time") from None


def check_topic(topic: Optional[str]) -> Optional[str]:
    if topic is not None and topic not in INPUT_TOPICS:
        raise ValueError(f"--topic: {topic!r} is not an input topic; choose one of {', '.join(INPUT_TOPICS)}")
    return topic


def _selection(topics: Topics, filters: Filters):
    query = select(OutboxMessage.id).where(OutboxMessage.topic == topics.dead_letters)
    if filters.since is not None:
        query = query.where(OutboxMessage.created_at >= filters.since)
    if filters.reason:
        error = func.lower(OutboxMessage.payload["error"].as_string())
        query = query.where(error.contains(filters.reason.lower(), autoescape=True))
    if filters.topic:
        query = query.where(OutboxMessage.payload["topic"].as_string() == topics.physical(filters.topic))
    return query


def list_dead_letters(sessions: sessionmaker[Session], topics: Topics, filters: Filters = Filters(),
                      limit: Optional[int] = 50) -> list[DeadLetterEntry]:
    """Dead letters newest first, with whether each was replayed and whether it is a replay's."""
    query = _selection(topics, filters).order_by(OutboxMessage.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with sessions() as session:
        ids = list(session.scalars(query))
        return _entries(session, ids)


def _entries(session: Session, ids: list[int]) -> list[DeadLetterEntry]:
    return [entry for entry, _ in _load(session, ids)]


def _load(session: Session, ids: list[int]) -> list[tuple[DeadLetterEntry, dict]]:
    """The rows with these ids (in this order) and their letters, read with what
    `dead_letter_replays` says of them: replayed when and by whom, and whether a row is the
    dead letter of a replayed copy (it sits where that copy landed)."""
    rows, replayed, landed = {}, {}, {}
    for part in chunks(ids):
        rows.update((row.id, row) for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(part))))
        replayed.update((r.outbox_id, r) for r in session.scalars(
            select(DeadLetterReplay).where(DeadLetterReplay.outbox_id.in_(part)).order_by(DeadLetterReplay.id)))
    offsets = sorted({row.payload.get("offset") for row in rows.values()} - {None})
    for part in chunks(offsets):
        landed.update(((r.sent_topic, r.sent_partition, r.sent_offset), r.outbox_id) for r in session.scalars(
            select(DeadLetterReplay).where(DeadLetterReplay.sent_offset.in_(part))))
    found = []
    for row_id in ids:
        row = rows.get(row_id)
        if row is None:
            continue  # pruned or erased meanwhile
        letter, replay = row.payload, replayed.get(row_id)
        entry = DeadLetterEntry(
            id=row.id, at=as_utc(row.created_at), topic=letter.get("topic", ""), partition=letter.get("partition"),
            offset=letter.get("offset"), key=letter.get("key"), error=letter.get("error", ""),
            has_value=letter.get("value") is not None or letter.get("value_base64") is not None,
            replayed_at=as_utc(replay.replayed_at) if replay else None,
            replayed_by=replay.replayed_by if replay else None,
            replay_of=landed.get((letter.get("topic"), letter.get("partition"), letter.get("offset"))))
        found.append((entry, letter))
    return found


# -- replaying ----------------------------------------------------------------------


async def replay(sessions: sessionmaker[Session], topics: Topics, send: Sender, filters: Filters = Filters(),
                 again: bool = False, dry_run: bool = False, by: Optional[str] = None,
                 limit: Optional[int] = None, clock: Callable[[], datetime] = utcnow,
                 batch: int = 200) -> ReplayReport:
    """Send the selected dead letters back to their input topics, oldest first, and record
    each once Kafka acknowledged it. `again`: also those that are a replay's own dead letter.
    `dry_run`: say what would be sent; send and record nothing.

    The rows are chosen once, at the start: dead letters written meanwhile (by copies of this
    very replay, say) wait for the next command."""
    query = _selection(topics, filters).order_by(OutboxMessage.id)
    with sessions() as session:
        ids = list(session.scalars(query))
    report = ReplayReport(dry_run=dry_run)
    for part in chunks(ids, batch):
        if limit is not None and len(report.sent) >= limit:
            break
        with sessions() as session:
            chosen = _choose(session, topics, _load(session, part), again, report)
        if limit is not None:
            chosen = chosen[:limit - len(report.sent)]
        if dry_run or not chosen:
            report.sent.extend(chosen)
            continue
        landed = await send(chosen)
        _record(sessions, chosen, landed, clock(), by, report)
    return report


def _choose(session: Session, topics: Topics, loaded: list[tuple[DeadLetterEntry, dict]], again: bool,
            report: ReplayReport) -> list[Replay]:
    chosen = []
    for entry, letter in loaded:
        logical = topics.logical(entry.topic)
        why = (None if entry.replayed_at is None else "replayed before")
        why = why or (None if entry.replay_of is None or again else "a replay's own dead letter (--again sends it)")
        why = why or (None if entry.has_value else "its value was not kept")
        why = why or (None if logical in INPUT_TOPICS else f"{logical} is not an input topic")
        why = why or (_role_changed(session, letter) if logical == LOGICAL.role_specs else None)
        if why:
            report.skip(entry.id, why)
            continue
        value = base64.b64decode(letter["value_base64"]) if letter.get("value_base64") else letter["value"].encode()
        key = letter["key"].encode() if letter.get("key") is not None else None
        chosen.append(Replay(entry.id, topics.physical(logical), key, value))
    return chosen


def _role_changed(session: Session, letter: dict) -> Optional[str]:
    """A role spec whose role was changed after it failed: replaying it would undo that change."""
    role_ids = {letter.get("key")}
    try:
        value = json.loads(letter.get("value") or "null")
        role_ids.add(value.get("role_id") if isinstance(value, dict) else None)
    except ValueError:
        pass
    failed_at = as_utc(datetime.fromisoformat(letter["failed_at"].replace("Z", "+00:00")))
    for role_id in sorted(r for r in role_ids if isinstance(r, str)):
        updated = session.scalar(select(RoleSpecRow.updated_at).where(RoleSpecRow.role_id == role_id))
        if updated is not None and as_utc(updated) > failed_at:
            return f"role {role_id} changed after it failed (send the spec again instead)"
    return None


def _record(sessions: sessionmaker[Session], chosen: list[Replay], landed: list[Landed], now: datetime,
            by: Optional[str], report: ReplayReport) -> None:
    """One transaction per batch: the copies Kafka acknowledged, with where they landed."""
    with sessions.begin() as session:
        for item, outcome in zip(chosen, landed):
            if isinstance(outcome, BaseException):
                report.skip(item.outbox_id, f"not acknowledged by Kafka ({type(outcome).__name__}; "
                                            "a later replay sends it)")
                continue
            topic, partition, offset = outcome
            session.add(DeadLetterReplay(outbox_id=item.outbox_id, replayed_at=now, replayed_by=(by or None),
                                         sent_topic=topic, sent_partition=partition, sent_offset=offset))
            report.sent.append(item)


def summary(report: ReplayReport) -> list[str]:
    """What `radar dlq replay` prints."""
    verb = "would send" if report.dry_run else "sent"
    lines = [f"{verb} {len(report.sent)} dead letter(s)" + (":" if report.sent else "")]
    lines += [f"  #{r.outbox_id} -> {r.topic} key {r.key.decode(errors='replace') if r.key else '-'}"
              for r in report.sent[:SHOWN]]
    lines += [f"  ... and {len(report.sent) - SHOWN} more"] if len(report.sent) > SHOWN else []
    total = sum(report.skipped.values())
    lines.append(f"skipped {total}" + (":" if total else ""))
    for why, count in report.skipped.most_common():
        ids = ", ".join(f"#{i}" for i in report.skipped_ids[why][:10])
        more = " ..." if len(report.skipped_ids[why]) > 10 else ""
        lines.append(f"  {count} {why} ({ids}{more})")
    if report.dry_run:
        lines.append("nothing was sent (--dry-run)")
    return lines
