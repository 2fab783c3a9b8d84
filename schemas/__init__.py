"""The wire contract: pydantic models for every topic (see ../shared/CONTRACT.md)."""
from schemas.events import (
    CandidateSignal,
    DeadLetter,
    InterviewNote,
    LeadEvent,
    MatchAlert,
    MatchWithdrawn,
    Position,
    Profile,
    ProfileEvent,
    Reason,
    RoleSpec,
    TimerEvent,
)
from schemas.topics import LOGICAL, TOPIC_TABLE, Topics

__all__ = [
    "CandidateSignal", "DeadLetter", "InterviewNote", "LeadEvent", "MatchAlert", "MatchWithdrawn",
    "Position", "Profile", "ProfileEvent", "Reason", "RoleSpec", "TimerEvent",
    "LOGICAL", "TOPIC_TABLE", "Topics",
]
