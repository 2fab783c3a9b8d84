"""Pydantic v2 models of every message on the wire.

Inputs are validated strictly enough that a bad event is rejected with a message a
human can act on; unknown extra fields are ignored so producers can grow the format.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SIGNAL_TYPES = (
    "role_change", "promotion", "new_skill", "leadership_growth", "domain_shift",
    "relocation", "open_to_work", "tenure_milestone", "interest_expressed", "revisit_due",
)
NOTE_KINDS = ("screen", "interview", "debrief", "sourcing_call", "reference")

_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$")
NonEmpty = Field(min_length=1, max_length=200)


def _as_utc(value: datetime) -> datetime:
    """Naive timestamps are read as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Inbound):
    title: Optional[str] = None
    company: Optional[str] = None
    industry: Optional[str] = None
    start: Optional[str] = Field(default=None, description="YYYY-MM or YYYY-MM-DD")
    end: Optional[str] = Field(default=None, description="YYYY-MM or YYYY-MM-DD; null = current")
    direct_reports: Optional[int] = Field(default=None, ge=0)

    @field_validator("start", "end")
    @classmethod
    def _year_month(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _YEAR_MONTH.match(value):
            raise ValueError(f"must be YYYY-MM or YYYY-MM-DD, got {value!r}")
        return value


class Profile(_Inbound):
    """Every field is optional: missing means unknown, not removed."""
    name: Optional[str] = None
    headline: Optional[str] = None
    location: Optional[str] = None
    open_to_work: Optional[bool] = None
    do_not_contact: Optional[bool] = None
    skills: Optional[list[str]] = None
    years_experience: Optional[float] = Field(default=None, ge=0, le=80)
    positions: Optional[list[Position]] = None


class ProfileEvent(_Inbound):
    event_id: str = NonEmpty
    candidate_id: str = NonEmpty
    source: str = NonEmpty
    occurred_at: UtcDatetime
    profile: Profile


class InterviewNote(_Inbound):
    event_id: str = NonEmpty
    candidate_id: str = NonEmpty
    role_id: Optional[str] = None
    author: Optional[str] = None
    kind: Literal["screen", "interview", "debrief", "sourcing_call", "reference"]
    occurred_at: UtcDatetime
    text: str = Field(min_length=1, max_length=50_000)


class RoleSpec(_Inbound):
    event_id: Optional[str] = None
    role_id: str = NonEmpty
    status: Literal["open", "paused", "closed"]
    title: str = NonEmpty
    owner: Optional[str] = None
    must_have: list[str] = []
    nice_to_have: list[str] = []
    seniority: list[str] = []
    min_years: Optional[float] = Field(default=None, ge=0)
    locations: list[str] = []
    remote: bool = False
    domains: list[str] = []
    exclude_companies: list[str] = []
    threshold: float = Field(default=0.6, ge=0, le=1)
    description: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        # Producers often send `"must_have": null`; read it as "none given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class TimerEvent(_Inbound):
    """Internal: the scheduler's way of telling the worker that time has passed."""
    event_id: str = NonEmpty
    candidate_id: str = NonEmpty
    kind: Literal["revisit_due", "tenure_check"]
    due_at: UtcDatetime
    detail: dict[str, Any] = {}


class CandidateSignal(_Outbound):
    signal_id: str
    candidate_id: str
    type: str
    detail: dict[str, Any]
    evidence: str
    source_event_id: str
    occurred_at: datetime
    detected_at: datetime


class Reason(_Outbound):
    kind: str
    text: str


class MatchAlert(_Outbound):
    type: Literal["match.alert"] = "match.alert"
    alert_id: str
    role_id: str
    candidate_id: str
    fit: float = Field(ge=0, le=1)
    readiness: float = Field(ge=0, le=1)
    reasons: list[Reason]
    signals: list[str]
    triggered_by: str
    created_at: datetime
    schema_version: Literal[1] = 1


class MatchWithdrawn(_Outbound):
    type: Literal["match.withdrawn"] = "match.withdrawn"
    alert_id: str = Field(description="id of this withdrawal; stable for the same transition")
    withdraws_alert_id: Optional[str] = Field(default=None, description="the alert it ends")
    role_id: str
    candidate_id: str
    reasons: list[Reason]
    triggered_by: str
    created_at: datetime
    schema_version: Literal[1] = 1


class DeadLetter(_Outbound):
    topic: str
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[str]
    value: Optional[str] = Field(description="the original bytes as text (UTF-8, invalid bytes replaced)")
    value_base64: Optional[str] = Field(default=None, description="set when the bytes were not UTF-8")
    error: str
    failed_at: datetime
    schema_version: Literal[1] = 1


WIRE_MODELS: dict[str, type[BaseModel]] = {
    "profile-event": ProfileEvent,
    "interview-note": InterviewNote,
    "role-spec": RoleSpec,
    "candidate-signal": CandidateSignal,
    "match-alert": MatchAlert,
    "match-withdrawn": MatchWithdrawn,
    "dead-letter": DeadLetter,
    "timer-event": TimerEvent,
}
