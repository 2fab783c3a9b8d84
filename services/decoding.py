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
    topic: str
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[bytes]
    value: Optional[bytes]

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class RoleTombstone:
    role_id: str


@dataclass(frozen=True)
class Rejected:
    record: RawRecord
    error: str


Decoded = Union[ProfileEvent, InterviewNote, RoleSpec, TimerEvent, RoleTombstone, Rejected]


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
