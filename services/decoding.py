"""Turning raw Kafka records into validated events, or into dead letters with a reason."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Union

from pydantic import BaseModel, ValidationError

from schemas import DeadLetter, InterviewNote, ProfileEvent, RoleSpec, TimerEvent, TOPICS

MODEL_BY_TOPIC: dict[str, type[BaseModel]] = {  # by logical topic name
    "profile-events": ProfileEvent,
    "interview-notes": InterviewNote,
    "role-specs": RoleSpec,
    "radar-timers": TimerEvent,
}


@dataclass(frozen=True)
class RawRecord:
    """A record as consumed. A re-keyed record keeps the topic, partition and offset it was
    first consumed from, so decoding and dead letters speak of the original."""
    topic: str
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[bytes]
    value: Optional[bytes]
    rekeyed: bool = False  # already routed by candidate_id through radar-rekeyed

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


REKEY_HEADER = "radar-origin"  # "topic/partition/offset" of a re-keyed record
ORIGIN_KEY_HEADER = "radar-origin-key"  # its key as received, when it had one


def misrouted_candidate_id(record: RawRecord) -> Optional[str]:
    """The candidate_id a candidate event should have been keyed by, when its key differs.

    None when the record is keyed right, or cannot be read (decoding will dead-letter it)."""
    if record.rekeyed or record.value is None or TOPICS.logical(record.topic) not in CANDIDATE_TOPICS:
        return None
    try:
        candidate_id = json.loads(record.value).get("candidate_id")
    except (ValueError, AttributeError):
        return None
    if not isinstance(candidate_id, str) or not candidate_id:
        return None
    return None if record.key == candidate_id.encode() else candidate_id


def from_rekeyed(key: Optional[bytes], value: Optional[bytes], origin: str) -> RawRecord:
    topic, partition, offset = origin.rsplit("/", 2)
    return RawRecord(topic, int(partition), int(offset), key, value, rekeyed=True)


@dataclass(frozen=True)
class RoleTombstone:
    role_id: str


@dataclass(frozen=True)
class Rejected:
    record: RawRecord
    error: str


Decoded = Union[ProfileEvent, InterviewNote, RoleSpec, TimerEvent, RoleTombstone, Rejected]


CANDIDATE_TOPICS = ("profile-events", "interview-notes", "radar-timers")


def describe_validation_error(error: ValidationError) -> str:
    """One line a human can act on: `profile.positions.0.start: must be YYYY-MM ...`."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(message)"
        parts.append(f"{where}: {item['msg']}")
    more = f" (+{error.error_count() - 5} more)" if error.error_count() > 5 else ""
    return "schema validation failed: " + "; ".join(parts) + more


def decode(record: RawRecord) -> Decoded:
    logical = TOPICS.logical(record.topic)
    model = MODEL_BY_TOPIC.get(logical)
    if model is None:
        return Rejected(record, f"no decoder for topic {record.topic!r}")
    if record.value is None:
        if logical == "role-specs" and record.key:
            return RoleTombstone(record.key.decode("utf-8", errors="replace"))
        return Rejected(record, "empty message (null value); only role-specs accept a tombstone, and it needs a key")
    try:
        data = json.loads(record.value)
    except UnicodeDecodeError:
        return Rejected(record, "value is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return Rejected(record, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    if not isinstance(data, dict):
        return Rejected(record, f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return Rejected(record, describe_validation_error(exc))


def dead_letter(record: RawRecord, error: str, now: datetime) -> DeadLetter:
    value_text, value_b64 = None, None
    if record.value is not None:
        try:
            value_text = record.value.decode("utf-8")
        except UnicodeDecodeError:
            value_text = record.value.decode("utf-8", errors="replace")
            value_b64 = base64.b64encode(record.value).decode()
    return DeadLetter(
        topic=record.topic, partition=record.partition, offset=record.offset,
        key=record.key.decode("utf-8", errors="replace") if record.key is not None else None,
        value=value_text, value_base64=value_b64, error=error, failed_at=now,
    )
