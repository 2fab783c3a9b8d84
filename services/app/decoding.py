"""Turning raw Kafka records into validated events, or into dead letters with a reason."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Union

from pydantic import BaseModel, ValidationError

from schemas import DeadLetter, InterviewNote, ProfileEvent, RoleSpec, TimerEvent
from schemas.bounds import MAX_DEPTH
from schemas.topics import CANDIDATE_TOPICS, LOGICAL, TOPIC_TABLE
from services.adapters.kafka.records import RawRecord
from services.config import TOPICS

# Inbound models by logical topic name (schemas/topics.py is the one table of topics).
MODEL_BY_TOPIC: dict[str, type[BaseModel]] = {s.name: s.models[0] for s in TOPIC_TABLE if s.inbound and s.models}


def misrouted_candidate_id(record: RawRecord, item: "Decoded") -> Optional[str]:
    """The candidate_id a valid candidate event should have been keyed by, when its key differs.

    None when the record is keyed right, was re-keyed already, or is invalid (decoding
    dead-letters it where it is)."""
    if record.rekeyed or TOPICS.logical(record.topic) not in CANDIDATE_TOPICS:
        return None
    candidate_id = getattr(item, "candidate_id", None)
    if not candidate_id or record.key == candidate_id.encode():
        return None
    return candidate_id


@dataclass(frozen=True)
class RoleTombstone:
    role_id: str


@dataclass(frozen=True)
class CandidateErasure:
    """A tombstone on profile-events (a null value keyed by the candidate_id): erase them."""
    candidate_id: str


@dataclass(frozen=True)
class Rejected:
    record: RawRecord
    error: str


Decoded = Union[ProfileEvent, InterviewNote, RoleSpec, TimerEvent, RoleTombstone, CandidateErasure, Rejected]




def describe_validation_error(error: ValidationError) -> str:
    """One line a human can act on: `profile.source: at most 64 characters, got 70`.

    Never repeats the rejected value (reasons are logged, and values may be personal data)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"])
        message = _bound_message(item, error) or item["msg"]
        parts.append(f"{where}: {message}" if where else message)
    more = f" (+{error.error_count() - 5} more)" if error.error_count() > 5 else ""
    return "schema validation failed: " + "; ".join(parts) + more


def _bound_message(item: dict, error: ValidationError) -> Optional[str]:
    """Length errors say the bound and the size found, not pydantic's generic sentence."""
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind not in ("string_too_long", "too_long"):
        return None
    found = _size_at(error, item["loc"])
    unit = "characters" if kind == "string_too_long" else "items"
    got = f", got {found}" if found is not None else ""
    return f"at most {ctx.get('max_length')} {unit}{got}"


def _size_at(error: ValidationError, loc: tuple) -> Optional[int]:
    for detail in error.errors(include_url=False):
        if detail["loc"] == loc:
            value = detail.get("input")
            return len(value) if hasattr(value, "__len__") else None
    return None


def decode(record: RawRecord) -> Decoded:
    if record.failure:
        return Rejected(record, record.failure)
    logical = TOPICS.logical(record.topic)
    model = MODEL_BY_TOPIC.get(logical)
    if model is None:
        return Rejected(record, f"no decoder for topic {record.topic!r}")
    if record.value is None:
        if logical == LOGICAL.role_specs and record.key:
            return RoleTombstone(record.key.decode("utf-8", errors="replace"))
        if logical == LOGICAL.profile_events and record.key:
            return _erasure(record)
        return Rejected(record, "empty message (null value): a tombstone is taken on role-specs (delete the role) "
                                "and profile-events (erase the candidate), keyed by the id")
    try:
        data = json.loads(record.value)
    except UnicodeDecodeError:
        return Rejected(record, "value is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return Rejected(record, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        return Rejected(record, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        return Rejected(record, f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return Rejected(record, describe_validation_error(exc))


def _erasure(record: RawRecord) -> Decoded:
    from pydantic import TypeAdapter

    from schemas.events import Id

    try:
        return CandidateErasure(TypeAdapter(Id).validate_python(record.key.decode("utf-8")))
    except (UnicodeDecodeError, ValidationError):
        return Rejected(record, "an erasure (a null value on profile-events) needs the candidate_id as its key")


def decode_safely(record: RawRecord) -> Decoded:
    """`decode`, for records nothing is known about: whatever goes wrong becomes a reason."""
    try:
        return decode(record)
    except Exception as exc:  # a bug, or an input no rule above foresaw: never the stream's end
        return Rejected(record, f"could not be decoded: {type(exc).__name__}")


def dead_letter(record: RawRecord, error: str, now: datetime, keep_value: bool = True) -> DeadLetter:
    value_text, value_b64 = None, None
    if record.value is not None and keep_value:
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
