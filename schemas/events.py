"""Pydantic v2 models of every message on the wire.

Inputs are validated strictly enough that a bad event is rejected with a message a
human can act on; unknown extra fields are ignored so producers can grow the format.
Every inbound field is bounded (`schemas.bounds`), so what passes validation fits the
store on every database; messages never echo a rejected value back.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas import bounds as B

SIGNAL_TYPES = (
    "role_change", "promotion", "new_skill", "leadership_growth", "domain_shift",
    "relocation", "open_to_work", "tenure_milestone", "interest_expressed", "revisit_due",
)
NOTE_KINDS = ("screen", "interview", "debrief", "sourcing_call", "reference")

_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$")


def as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """The one UTC rule: naive timestamps (SQLite hands those back) are read as UTC, aware
    ones are converted to UTC; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _printable_id(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise PydanticCustomError("id_control_character", "must not contain control characters")
    return value


def Text(max_length: int) -> Any:
    """A bounded string, surrounding whitespace stripped."""
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)]


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.ID_MAX),
               AfterValidator(_printable_id)]
Term = Annotated[str, StringConstraints(strip_whitespace=True, max_length=B.ROLE_TERM_MAX)]
RawSkill = Annotated[str, StringConstraints(strip_whitespace=True, max_length=B.SKILL_MAX)]


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _InboundMessage(_Inbound):
    """A whole inbound message: every string in it (known fields or not) must be storable
    text, and it may not nest deeper than bounds.MAX_DEPTH."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = B.storable_problem(data)
        if problem:
            raise PydanticCustomError("not_storable", problem)
        return data


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Inbound):
    title: Optional[Text(B.TITLE_MAX)] = None
    company: Optional[Text(B.COMPANY_MAX)] = None
    industry: Optional[Text(B.INDUSTRY_MAX)] = None
    start: Optional[str] = Field(default=None, description="YYYY-MM or YYYY-MM-DD")
    end: Optional[str] = Field(default=None, description="YYYY-MM or YYYY-MM-DD; null = current")
    direct_reports: Optional[int] = Field(default=None, ge=0, le=B.DIRECT_REPORTS_MAX)

    @field_validator("start", "end")
    @classmethod
    def _year_month(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _YEAR_MONTH.match(value):
            raise PydanticCustomError("year_month", "must be YYYY-MM or YYYY-MM-DD")
        return value


class Profile(_Inbound):
    """Every field is optional: missing means unknown, not removed."""
    name: Optional[Text(B.NAME_MAX)] = None
    headline: Optional[Text(B.HEADLINE_MAX)] = None
    location: Optional[Text(B.LOCATION_MAX)] = None
    open_to_work: Optional[bool] = None
    do_not_contact: Optional[bool] = None
    skills: Optional[list[RawSkill]] = Field(default=None, max_length=B.SKILLS_MAX_ITEMS)
    years_experience: Optional[float] = Field(default=None, ge=0, le=80)
    positions: Optional[list[Position]] = Field(default=None, max_length=B.POSITIONS_MAX_ITEMS)


class ProfileEvent(_InboundMessage):
    event_id: Id
    candidate_id: Id
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.SOURCE_MAX)]
    occurred_at: UtcDatetime
    profile: Profile
    consent_renewed: bool = Field(default=False, description=(
        "the candidate consented again after an erasure: this event re-admits them"))


class InterviewNote(_InboundMessage):
    event_id: Id
    candidate_id: Id
    role_id: Optional[Id] = None
    author: Optional[Text(B.AUTHOR_MAX)] = None
    kind: Literal["screen", "interview", "debrief", "sourcing_call", "reference"]
    occurred_at: UtcDatetime
    text: str = Field(min_length=1, max_length=B.NOTE_TEXT_MAX)


TermList = Annotated[list[Term], Field(max_length=B.ROLE_LIST_MAX_ITEMS)]


class RoleSpec(_InboundMessage):
    event_id: Optional[Id] = None
    role_id: Id
    status: Literal["open", "paused", "closed"]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=B.ROLE_TITLE_MAX)]
    owner: Optional[Text(B.OWNER_MAX)] = None
    must_have: TermList = []
    nice_to_have: TermList = []
    seniority: TermList = []
    min_years: Optional[float] = Field(default=None, ge=0, le=80)
    locations: TermList = []
    remote: bool = False
    domains: TermList = []
    exclude_companies: TermList = []
    threshold: float = Field(default=0.6, ge=0, le=1)
    description: Optional[str] = Field(default=None, max_length=B.DESCRIPTION_MAX)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        # Producers often send `"must_have": null`; read it as "none given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class TimerEvent(_InboundMessage):
    """Internal: the scheduler's way of telling the worker that time has passed."""
    event_id: Id
    candidate_id: Id
    kind: Literal["revisit_due", "tenure_check", "snooze_ended", "rescore"]
    due_at: UtcDatetime
    detail: dict[str, Any] = Field(default={}, max_length=B.TIMER_DETAIL_MAX_KEYS)

    @field_validator("detail")
    @classmethod
    def _short_texts(cls, detail: dict[str, Any]) -> dict[str, Any]:
        if any(isinstance(v, str) and len(v) > B.TIMER_TEXT_MAX for v in detail.values()):
            raise PydanticCustomError("timer_text", f"texts of at most {B.TIMER_TEXT_MAX} characters")
        return detail


def timer_event_id(kind: str, candidate_id: str, *parts: object) -> str:
    """A timer event's id: `kind-parts...` as long as it fits in an id (ids name the timer, so
    the same timer is taken once); past ID_MAX, `kind-<digest of the candidate id>-<digest of
    the whole>`, still one per timer, and still findable by the candidate (erasure forgets them)."""
    readable = "-".join([kind, *map(str, parts)])
    if len(readable) <= B.ID_MAX:
        return readable
    return f"{kind}-{id_digest(candidate_id)}-{id_digest(readable)}"


def id_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


LEAD_STATUSES = ("new", "reviewed", "contacted", "replied", "handed_off", "interviewing", "hired",
                 "not_a_fit", "snoozed", "rejected", "withdrawn_by_candidate")
NOT_A_FIT_REASONS = ("wrong_level", "wrong_skills", "wrong_location", "not_interested", "other")


class LeadEvent(_InboundMessage):
    """A person's action on a (role, candidate) lead: a status, who it is handed to, a note."""
    event_id: Id
    role_id: Id
    candidate_id: Id
    status: Literal["new", "reviewed", "contacted", "replied", "handed_off", "interviewing", "hired",
                    "not_a_fit", "snoozed", "rejected", "withdrawn_by_candidate"]
    reason: Optional[Literal["wrong_level", "wrong_skills", "wrong_location", "not_interested", "other"]] = None
    assignee: Optional[Text(B.ASSIGNEE_MAX)] = None
    note: Optional[str] = Field(default=None, max_length=B.LEAD_NOTE_MAX)
    until: Optional[date] = None
    actor: Optional[Text(B.ACTOR_MAX)] = None
    occurred_at: UtcDatetime

    @model_validator(mode="after")
    def _what_the_status_needs(self) -> "LeadEvent":
        if self.status == "not_a_fit" and self.reason is None:
            raise PydanticCustomError("reason", "not_a_fit needs a reason: " + ", ".join(NOT_A_FIT_REASONS))
        if self.status == "snoozed" and self.until is None:
            raise PydanticCustomError("until", "snoozed needs until (a date, YYYY-MM-DD)")
        if self.status == "handed_off" and not self.assignee:
            raise PydanticCustomError("assignee", "handed_off needs an assignee")
        if self.status == "snoozed" and self.until <= self.occurred_at.date():
            raise PydanticCustomError("until", "snoozed needs until after the day of the change (a date to come)")
        if self.reason is not None and self.status != "not_a_fit":
            raise PydanticCustomError("reason", "a reason goes with not_a_fit only")
        if self.until is not None and self.status != "snoozed":
            raise PydanticCustomError("until", "until goes with snoozed only")
        return self


class CandidateErased(_Outbound):
    """On candidate-erasures: a candidate was erased on request; downstream systems erase too."""
    type: Literal["candidate.erased"] = "candidate.erased"
    candidate_id: str
    erased_at: datetime
    triggered_by: str = Field(description="the erasure request: its topic position")
    schema_version: Literal[1] = 1


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
    outbox_row: Optional[int] = Field(default=None, description=(
        "set when the broker refused an outbound message for good: the stored row it stands for"))
    message_id: Optional[str] = Field(default=None, description="that message's id (its alert_id, signal_id, ...)")
    schema_version: Literal[1] = 1
